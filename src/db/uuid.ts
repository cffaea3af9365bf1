const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A value that is not a UUID names no row; it must never reach Postgres's uuid cast, which would throw. */
export const isUuid = (value: string): boolean => UUID.test(value);
