import { readdirSync, readFileSync } from 'node:fs';

// One level below the package root in both src/ (tsx) and dist/ (built).
const SCHEMA_DIR = new URL('../schema/', import.meta.url);

/** The SDL of every schema/*.graphql file, in a stable order. */
export function loadTypeDefs(): string[] {
  return readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(new URL(file, SCHEMA_DIR), 'utf8'));
}
