import { describe, expect, it } from 'vitest';
import { cutSummary, escapeMarkdown, formatValue, parseTemplate, render } from '../../src/cards/template.js';

function parsed(source: string) {
  const result = parseTemplate(source);
  if (!result.ok) throw new Error(result.message);
  return result.template;
}

describe('card templates', () => {
  it('parses placeholders with paths and keeps the text around them', () => {
    expect(parsed('K {{potassium.value}} < {{threshold.potassium-low}}!')).toEqual([
      'K ',
      { ref: ['potassium', 'value'] },
      ' < ',
      { ref: ['threshold', 'potassium-low'] },
      '!',
    ]);
  });

  it.each([
    ['{{potassium', 'has an unmatched "{{" or "}}"'],
    ['potassium}}', 'has an unmatched "{{" or "}}"'],
    ['{{ }}', '"{{ }}" is not a placeholder: write {{name}} or {{name.field}}'],
    ['{{a..b}}', '"{{a..b}}" is not a placeholder: write {{name}} or {{name.field}}'],
  ])('refuses %s', (source, message) => {
    expect(parseTemplate(source)).toEqual({ ok: false, message });
  });

  it('renders values as clinicians read them', () => {
    expect(formatValue(null)).toBe('unknown');
    expect(formatValue(undefined)).toBe('unknown');
    expect(formatValue(0.1 + 0.2)).toBe('0.3');
    expect(formatValue(3.1)).toBe('3.1');
    expect(formatValue(true)).toBe('yes');
    expect(formatValue('2026-11-20T23:15:00-05:00')).toBe('2026-11-20');
    expect(formatValue({ display: '3.1 mmol/L (2026-11-20)', value: 3.1 })).toBe('3.1 mmol/L (2026-11-20)');
    expect(formatValue({ value: 0.75, unit: 'ug/kg/min' })).toBe('0.75 mcg/kg/min');
    expect(formatValue([{ display: 'furosemide' }, 'heparin'])).toBe('furosemide, heparin');
    expect(formatValue([])).toBe('none');
    expect(formatValue({ no: 'display' })).toBe('unknown');
  });

  it('escapes values, not the template, for markdown', () => {
    const values = new Map<string, unknown>([['drug', { display: '*bold* [link](x) <b>_x_</b>' }]]);
    expect(render(parsed('**Drug:** {{drug}}'), values, { markdown: true })).toBe('**Drug:** \\*bold\\* \\[link\\](x) \\<b\\>\\_x\\_\\</b\\>');
    expect(render(parsed('**Drug:** {{drug}}'), values)).toBe('**Drug:** *bold* [link](x) <b>_x_</b>');
    expect(escapeMarkdown('a|b`c#d~e\\f')).toBe('a\\|b\\`c\\#d\\~e\\\\f');
  });

  it('reads a missing path as unknown', () => {
    expect(render(parsed('{{k.value}} {{k.nothing.deeper}} {{absent}}'), new Map([['k', { value: 3 }]]))).toBe('3 unknown unknown');
  });

  it('keeps summaries under 140 characters, cutting with an ellipsis', () => {
    expect(cutSummary('short')).toBe('short');
    const long = `${'word '.repeat(40)}end`;
    const cut = cutSummary(long);
    expect(cut.length).toBeLessThanOrEqual(139);
    expect(cut.endsWith('…')).toBe(true);
    expect(cutSummary('x'.repeat(139))).toBe('x'.repeat(139));
    expect(cutSummary('line one\n  line two')).toBe('line one line two');
  });
});
