/**
 * A WCAG 2.x contrast check run inside the page (`page.evaluate(CONTRAST_CHECK)`): for every element
 * that directly holds visible text, its colour against its effective background (its own and its
 * ancestors' background colours composited, white below all), and the AA minimum: 4.5:1, or 3:1 for
 * large text (24px, or 18.66px bold). https://www.w3.org/TR/WCAG21/#contrast-minimum and
 * https://www.w3.org/TR/WCAG21/#dfn-relative-luminance. Background images are not used by the console.
 * A string, so it runs in the browser as written (this file is compiled without the DOM library).
 */
export interface ContrastFailure {
  text: string;
  color: string;
  background: string;
  ratio: number;
  needs: number;
}

export const CONTRAST_CHECK = `(() => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const channel = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reduceRight((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const failures = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('option, script, style, noscript, .sr-only')) continue;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility !== 'visible' || box.width === 0 || box.height === 0 || box.right <= 0 || box.bottom <= 0) continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    const needs = large ? 3 : 4.5;
    if (ratio < needs) {
      failures.push({ text: n.textContent.trim().slice(0, 60), color: style.color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')', ratio: Math.round(ratio * 100) / 100, needs });
    }
  }
  return failures;
})()`;
