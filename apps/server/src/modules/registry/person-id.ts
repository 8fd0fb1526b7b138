import { maskPhone } from '../../platform/crypto.ts';

/**
 * Resident identity numbers (居民身份证号码, GB 11643-1999): 6-digit address code, 8-digit birth date
 * (YYYYMMDD), 3-digit sequence (odd for men, even for women) and a check character (ISO 7064 MOD 11-2).
 */

const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const checkChars = '10X98765432';

/** The check character of the first 17 digits. */
export function checkCharOf(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i]!;
  return checkChars[sum % 11]!;
}

/** Upper case and no spaces: `11010519491231002x` → `11010519491231002X`. */
export function normaliseIdNumber(value: string): string {
  return value.replace(/\s/g, '').toUpperCase();
}

/** The birth date a resident ID number encodes (`YYYY-MM-DD`), or null when it is not a real date. */
export function birthDateOf(idNumber: string): string | null {
  const digits = idNumber.slice(6, 14);
  if (!/^\d{8}$/.test(digits)) return null;
  const iso = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) return null;
  return iso;
}

export type IdProblem = 'format' | 'check_digit' | 'birth_date' | 'birth_date_mismatch';

/**
 * Checks a resident ID number: 17 digits and a check character, the check character right, a real birth date
 * between 1900-01-01 and today, and (when given) equal to the stated birth date. Null when valid.
 */
export function residentIdProblem(
  idNumber: string,
  options: { today: string; birthDate?: string | null | undefined },
): IdProblem | null {
  const id = normaliseIdNumber(idNumber);
  if (!/^\d{17}[\dX]$/.test(id)) return 'format';
  if (checkCharOf(id.slice(0, 17)) !== id[17]) return 'check_digit';
  const birth = birthDateOf(id);
  if (!birth || birth < '1900-01-01' || birth > options.today) return 'birth_date';
  if (options.birthDate && options.birthDate !== birth) return 'birth_date_mismatch';
  return null;
}

export const idProblemMessages: Record<IdProblem, string> = {
  format: '身份证号码应为 17 位数字加校验位 (17 digits and a check character)',
  check_digit: '身份证号码校验位不正确 (wrong check digit)',
  birth_date: '身份证号码中的出生日期无效 (invalid birth date in the ID number)',
  birth_date_mismatch: '出生日期与身份证号码不符 (birth date does not match the ID number)',
};

/** `110105194912310021` → `110105********0021`: region code and last four only. */
export function maskIdNumber(idNumber: string): string {
  const id = normaliseIdNumber(idNumber);
  if (id.length <= 4) return '*'.repeat(id.length);
  if (id.length < 12) return `${'*'.repeat(id.length - 4)}${id.slice(-4)}`;
  return `${id.slice(0, 6)}${'*'.repeat(id.length - 10)}${id.slice(-4)}`;
}

/**
 * Phones: a mainland mobile (11 digits from 13–19, optionally +86) or a landline with its area code
 * (`0454-8234567`). Normalised to digits (a landline keeps its dash).
 */
export function normalisePhone(value: string): string | null {
  const compact = value.replace(/[\s()]/g, '');
  const mobile = /^(?:\+?86)?(1[3-9]\d{9})$/.exec(compact.replace(/-/g, ''));
  if (mobile) return mobile[1]!;
  const landline = /^(0\d{2,3})-?(\d{7,8})$/.exec(compact);
  if (landline) return `${landline[1]}-${landline[2]}`;
  return null;
}

/** `13812345678` → `138****5678`. */
export function maskPhoneNumber(phone: string): string {
  return maskPhone(phone);
}
