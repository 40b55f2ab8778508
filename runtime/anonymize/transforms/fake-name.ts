import { z } from 'zod';
import { defineTransform } from './types.js';
import { mapTextLeaves } from './values.js';

// Short, culturally mixed lists; realism of the UI matters more than variety.
const FIRST_NAMES = [
  'Alex', 'Amara', 'Aiko', 'Ben', 'Carla', 'Chen', 'Dana', 'Deepa', 'Elena', 'Emeka', 'Farah', 'Felix', 'Grace', 'Hana',
  'Hugo', 'Ines', 'Ivan', 'Jamal', 'Jin', 'Kai', 'Lena', 'Luca', 'Maya', 'Mateo', 'Nadia', 'Noah', 'Omar', 'Priya',
  'Quinn', 'Rosa', 'Ravi', 'Sara', 'Sven', 'Tariq', 'Tess', 'Uma', 'Vera', 'Wei', 'Yara', 'Zoe',
];
const LAST_NAMES = [
  'Abara', 'Berg', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Haddad', 'Ito', 'Jensen', 'Kowalski', 'Laurent',
  'Mensah', 'Novak', 'Okafor', 'Patel', 'Quinlan', 'Rossi', 'Sato', 'Tanaka', 'Ueda', 'Varga', 'Walsh', 'Xu', 'Yilmaz',
  'Zhang', 'Moreau', 'Silva', 'Kim', 'Nguyen', 'Brown', 'Murphy', 'Santos', 'Weber', 'Lindqvist', 'Adeyemi',
];

/**
 * Readable names chosen by the keyed HMAC of the value. With about 1,400
 * full names many people share one: fine for display, never for joins or
 * uniqueness (use `hash` there).
 */
export const fakeName = defineTransform({
  name: 'fake_name',
  summary: 'readable fake name chosen by the keyed HMAC (part: first, last or full)',
  params: z.strictObject({
    part: z.enum(['first', 'last', 'full']).default('full'),
  }),
  create(params, context) {
    return (value) =>
      mapTextLeaves(value, (text) => {
        if (text === '') return text;
        const mac = context.mac('fake_name', text);
        const first = FIRST_NAMES[mac.readUInt32BE(0) % FIRST_NAMES.length]!;
        const last = LAST_NAMES[mac.readUInt32BE(4) % LAST_NAMES.length]!;
        return params.part === 'first' ? first : params.part === 'last' ? last : `${first} ${last}`;
      });
  },
});
