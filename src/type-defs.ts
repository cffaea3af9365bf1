import { readFileSync } from 'node:fs';

// One level below the package root in both src/ (tsx) and dist/ (built).
const SCHEMA_DIR = new URL('../schema/', import.meta.url);

/** The SDL of schema/<file>: root.graphql, or a module's own file. */
export function readSchemaFile(file: string): string {
  return readFileSync(new URL(file, SCHEMA_DIR), 'utf8');
}
