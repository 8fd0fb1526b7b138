import { readFileSync } from 'node:fs';
import { generateDemoCity } from '../../apps/server/src/seed/demo-city.ts';
import { generateDemoRegistry } from '../../apps/server/src/seed/demo-registry.ts';

/**
 * Issue 5: "the server logs of a full test run contain none either". After the browser flows, the complete log
 * of the server they drove (info level: every request) is searched for every ID number and phone of the demo
 * city's residents and organisations (generated again, deterministically, for the day the server started).
 * Returns the problems found; the leaked values themselves are not repeated, only where they were.
 */
export function findLogLeaks(logFile: string, startedAt: Date): string[] {
  const log = readFileSync(logFile, 'utf8');
  const lines = log.split('\n');
  const requests = lines.filter((line) => line.includes('"url":"/api/')).length;
  // A log that captured nothing proves nothing.
  if (requests < 5)
    return [`${logFile}: only ${requests} request lines were logged; the scan needs the full log`];
  const registry = generateDemoRegistry(generateDemoCity(), { today: startedAt });
  const secrets = new Set([
    ...registry.persons.map((p) => p.idNumber),
    ...registry.persons.flatMap((p) => (p.phone ? [p.phone] : [])),
    ...registry.organisations.map((o) => o.safetyPhone),
  ]);
  const leaks: string[] = [];
  lines.forEach((line, index) => {
    // Every run of 11 or more digits (an optional X after), and every 11- and 18-character window of it.
    // (pino's millisecond timestamp is not data and is left out: its digits could match a phone by chance)
    for (const [run] of line.replace(/"time":\d+/g, '').matchAll(/\d{11,}X?/g))
      for (const size of [11, 18])
        for (let i = 0; i + size <= run.length; i++)
          if (secrets.has(run.slice(i, i + size)))
            leaks.push(`${logFile}:${index + 1}: a demo resident's ${size === 18 ? 'ID number' : 'phone'}`);
  });
  return leaks;
}
