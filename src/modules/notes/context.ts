import type { BaseContext } from '../../context.js';
import type { NoteEvents } from './events.js';
import type { NoteRepository } from './repository.js';

/** What the notes module adds to every request's context. */
export type NotesServices = Readonly<{ notes: NoteRepository; noteEvents: NoteEvents }>;

/** The context the notes module's resolvers and rules receive. */
export type NotesContext = BaseContext & NotesServices;
