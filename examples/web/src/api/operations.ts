import { gql, type TypedDocumentNode } from '@apollo/client';

export const PAGE_SIZE = 5;

/** Null for a service; a user's fields are null when they have no such value or the issuer does not share it. */
export type Profile = { email: string | null; name: string | null };

export type Viewer = {
  id: string;
  kind: 'USER' | 'SERVICE';
  roles: string[];
  isVerified: boolean;
  isAnonymous: boolean;
  authenticatedAt: string | null;
  profile: Profile | null;
};

/**
 * Authgear's access tokens carry no e-mail or name for a web app: the API
 * asks the issuer's UserInfo endpoint for `profile`. Should that fail,
 * `profile` alone is null with an error at its path and the rest of `me` is
 * answered: query it with errorPolicy 'all' to keep that rest.
 */
export const ME: TypedDocumentNode<{ me: Viewer }> = gql`
  query Me {
    me {
      id
      kind
      roles
      isVerified
      isAnonymous
      authenticatedAt
      profile {
        email
        name
      }
    }
  }
`;

export type Note = { id: string; title: string; body: string; ownerId: string; createdAt: string };
export type NotePage = { edges: { cursor: string; node: Note }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

const NOTE_FIELDS = gql`
  fragment NoteFields on Note {
    id
    title
    body
    ownerId
    createdAt
  }
`;

// One page of a notes connection, as both lists ask for it.
const NOTE_PAGE_FIELDS = gql`
  fragment NotePageFields on NoteConnection {
    edges {
      cursor
      node {
        ...NoteFields
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
  ${NOTE_FIELDS}
`;

export const MY_NOTES: TypedDocumentNode<{ myNotes: NotePage }, { first: number; after?: string | null }> = gql`
  query MyNotes($first: Int!, $after: String) {
    myNotes(first: $first, after: $after) {
      ...NotePageFields
    }
  }
  ${NOTE_PAGE_FIELDS}
`;

/** Role admin only: what a denied operation looks like to everyone else. */
export const ALL_NOTES: TypedDocumentNode<{ allNotes: NotePage }, { first: number; after?: string | null }> = gql`
  query AllNotes($first: Int!, $after: String) {
    allNotes(first: $first, after: $after) {
      ...NotePageFields
    }
  }
  ${NOTE_PAGE_FIELDS}
`;

export const CREATE_NOTE: TypedDocumentNode<{ createNote: Note }, { input: { title: string; body: string } }> = gql`
  mutation CreateNote($input: CreateNoteInput!) {
    createNote(input: $input) {
      ...NoteFields
    }
  }
  ${NOTE_FIELDS}
`;

export type NoteEvent = { kind: 'CREATED' | 'UPDATED' | 'DELETED'; noteId: string; note: Note | null };

export const MY_NOTE_EVENTS: TypedDocumentNode<{ myNoteEvents: NoteEvent }> = gql`
  subscription MyNoteEvents {
    myNoteEvents {
      kind
      noteId
      note {
        ...NoteFields
      }
    }
  }
  ${NOTE_FIELDS}
`;
