import type { ServicesOf } from '../module.js';
import { notesModule } from './notes/index.js';
import { viewerModule } from './viewer/index.js';

/**
 * The one list of modules this server runs. Adding a type: copy
 * src/modules/notes to src/modules/<yours>, rename, add it here, write
 * schema/<yours>.graphql and run `npm run codegen` (README: "Add your own type").
 */
export const modules = [viewerModule, notesModule] as const;

/** Every module's services, as resolvers find them on the context (ctx.notes, ...). */
export type Services = ServicesOf<typeof modules>;
