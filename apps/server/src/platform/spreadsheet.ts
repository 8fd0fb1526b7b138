/**
 * Text a spreadsheet must never run as a formula (CSV/formula injection): starting with = + - @, a tab or a
 * carriage return, or with spaces (also the full-width space) before one of = + - @. Such text gets a leading
 * apostrophe, so Excel and WPS show it as text. Every export of user-entered text (registry, hotline results)
 * writes its cells through this.
 */
export function defuseCell(text: string): string {
  return /^(?:[\t\r]|[ \u3000]*[=+\-@])/.test(text) ? `'${text}` : text;
}
