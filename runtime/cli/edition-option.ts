import { UserError } from '../errors.js';
import { EDITIONS, type Edition } from '../restore/source.js';

export function parseEdition(value: string): Edition {
  if ((EDITIONS as readonly string[]).includes(value)) return value as Edition;
  throw new UserError(`--edition must be ${EDITIONS.join(' or ')}, got "${value}"`, { exitCode: 2 });
}
