import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { openXlsx, XlsxFormatError } from './xlsx-reader.ts';

/** How the import read a cell through exceljs before (the reference the fast reader must agree with). */
function exceljsText(value: ExcelJS.CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    if ('richText' in value)
      return value.richText
        .map((part) => part.text)
        .join('')
        .trim();
    if ('formula' in value || 'sharedFormula' in value)
      return exceljsText((value as { result?: ExcelJS.CellValue }).result);
    if ('text' in value) return exceljsText((value as { text: ExcelJS.CellValue }).text);
  }
  return '';
}

/** Every non-empty cell of every sheet as exceljs reads it: sheet → row → column → text. */
async function throughExceljs(bytes: Buffer) {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  return workbook.worksheets.map((sheet) => {
    const cells: [number, number, string][] = [];
    sheet.eachRow({ includeEmpty: false }, (row, r) =>
      row.eachCell({ includeEmpty: false }, (cell, c) => {
        const text = exceljsText(cell.value);
        if (text !== '') cells.push([r, c, text]);
      }),
    );
    return { name: sheet.name, cells };
  });
}

function throughReader(bytes: Buffer) {
  const workbook = openXlsx(bytes);
  return workbook.sheetNames.map((name) => {
    const cells: [number, number, string][] = [];
    for (const [r, row] of workbook.sheet(name).rows)
      for (const [c, text] of [...row].sort((a, b) => a[0] - b[0])) cells.push([r, c, text]);
    return { name, cells };
  });
}

async function sample(options: { sharedStrings: boolean; stream: boolean }): Promise<Buffer> {
  const fill = (sheet: ExcelJS.Worksheet) => {
    sheet.addRow(['姓名', '证件号码', '出生日期', '电话', '备注']);
    sheet.addRow([
      '  张三 ',
      '11010519491231002X',
      new Date('1949-12-31T00:00:00Z'),
      13812345678,
      'a & b <c> "d" \'e\'',
    ]);
    sheet.addRow([
      { richText: [{ text: '李' }, { text: '四', font: { bold: true } }] },
      '230803199203150028',
      '1992-03-15',
      { formula: '1+1', result: 2 },
      true,
    ]);
    // an ID number typed as a number: Excel keeps 15 significant digits
    const row = sheet.addRow(['王五', 110105194912310020, 45000, { formula: 'A1', result: '姓名' }, false]);
    row.getCell(3).numFmt = 'yyyy-mm-dd';
    sheet.addRow([]);
    sheet.addRow(['', null, '   ', 0, 'x\ny\u0001']);
    const sparse = sheet.getRow(9);
    sparse.getCell(2).value = '第 9 行第 2 列';
    sparse.getCell(28).value = 'AB 列';
    sparse.getCell(5).value = { text: '链接', hyperlink: 'https://example.org/?a=1&b=2' };
    sparse.getCell(6).value = { error: '#N/A' };
    sparse.getCell(7).value = 1.5e-7;
    sparse.getCell(8).value = new Date('2024-02-29T00:00:00Z');
  };
  if (!options.stream) {
    const workbook = new ExcelJS.Workbook();
    fill(workbook.addWorksheet('实有人口'));
    workbook.addWorksheet('填写说明').addRow(['说明']);
    return Buffer.from(await workbook.xlsx.writeBuffer({ useSharedStrings: options.sharedStrings }));
  }
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: options.sharedStrings,
    useStyles: true,
  });
  const sheet = workbook.addWorksheet('实有人口');
  fill(sheet);
  sheet.commit();
  await workbook.commit();
  return Buffer.concat(chunks);
}

describe('openXlsx', () => {
  for (const options of [
    { sharedStrings: true, stream: false },
    { sharedStrings: false, stream: false },
    { sharedStrings: true, stream: true },
    { sharedStrings: false, stream: true },
  ])
    it(`reads every cell as the exceljs-based import did (${JSON.stringify(options)})`, async () => {
      const bytes = await sample(options);
      const expected = await throughExceljs(bytes);
      const read = throughReader(bytes);
      expect(read).toEqual(expected);
      // and the values are the ones a person typed
      const cells = new Map(read[0]!.cells.map(([r, c, text]) => [`${r}:${c}`, text]));
      expect(cells.get('2:1')).toBe('张三');
      expect(cells.get('2:3')).toBe('1949-12-31');
      expect(cells.get('2:5')).toBe('a & b <c> "d" \'e\'');
      expect(cells.get('3:1')).toBe('李四');
      expect(cells.get('3:4')).toBe('2');
      expect(cells.get('3:5')).toBe('TRUE');
      expect(cells.get('4:2')).toBe('110105194912310020');
      expect(cells.get('4:3')).toBe('2023-03-15');
      expect(cells.get('4:4')).toBe('姓名');
      expect(cells.get('9:28')).toBe('AB 列');
      expect(cells.get('9:5')).toBe('链接');
      expect(cells.has('9:6')).toBe(false);
      expect(cells.get('9:8')).toBe('2024-02-29');
    });

  it('refuses what is not an xlsx workbook', () => {
    expect(() => openXlsx(Buffer.from('name,id\n张三,1\n'))).toThrow(XlsxFormatError);
    expect(() => openXlsx(Buffer.from([0x50, 0x4b, 3, 4, ...new Array(40).fill(0)]))).toThrow(
      XlsxFormatError,
    );
  });
});
