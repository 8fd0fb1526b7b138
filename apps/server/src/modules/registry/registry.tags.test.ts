import { describe, expect, it } from 'vitest';
import { personTagFields, personTagKindValues, tagFieldProblems } from '@wangge/contracts';
import { generateDemoCity } from '../../seed/demo-city.ts';
import { generateDemoRegistry } from '../../seed/demo-registry.ts';

describe("key-population tags' own fields", () => {
  it('are defined for every kind, each with a Chinese and an English label', () => {
    for (const kind of personTagKindValues) {
      const fields = Object.entries(personTagFields[kind]);
      expect(fields.length, kind).toBeGreaterThan(0);
      for (const [key, def] of fields) {
        expect(def.zh, `${kind}.${key}`).toMatch(/\p{Script=Han}/u);
        expect(def.en, `${kind}.${key}`).toMatch(/^[A-Z]/);
      }
    }
  });

  it('accept values of their type and refuse others, naming the key', () => {
    expect(tagFieldProblems('disabled', { category: '肢体', grade: 2, certificate: true })).toEqual([]);
    expect(tagFieldProblems('disabled', { grade: null })).toEqual([]);
    expect(tagFieldProblems('disabled', { grade: 2.5 }).map((p) => p.key)).toEqual(['grade']);
    expect(tagFieldProblems('corrections', { periodFrom: '2026-02-30x' }).map((p) => p.key)).toEqual([
      'periodFrom',
    ]);
    expect(tagFieldProblems('pregnant', { colour: 'red' })[0]!.message).toContain('gestationWeeks');
  });

  it("fit every tag of the demo city's registry", () => {
    const registry = generateDemoRegistry(generateDemoCity(), { today: new Date('2026-11-24T02:00:00Z') });
    const problems = registry.persons.flatMap((p) =>
      p.tags.flatMap((t) =>
        tagFieldProblems(t.kind, t.fields).map((x) => `${t.kind}.${x.key}: ${x.message}`),
      ),
    );
    expect(registry.persons.some((p) => p.tags.length > 0)).toBe(true);
    expect([...new Set(problems)]).toEqual([]);
  });
});
