import { median } from './harness/stats.js';
import type { ThroughputResult } from './scenarios/throughput.js';

/** Scenario 1 and 2 as an SVG bar chart, written by hand: requests/s and server CPU per request, side by side. */

const ROW = 24;
const BAR = 16;
const LABEL_W = 290;
const PANEL_W = 300;
const GAP = 40;
const TOP = 64;
const WIDTH = LABEL_W + 2 * PANEL_W + GAP + 60;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function colour(id: string): string {
  if (id.includes('oidc-auth')) return '#2563eb';
  if (id.includes('express-session')) return '#9ca3af';
  if (id.includes('eoc')) return '#f59e0b';
  return '#4b5563';
}

export function chartSvg(results: readonly ThroughputResult[], subtitle: string): string {
  const rows: ({ heading: string } | { result: ThroughputResult })[] = [];
  for (const scenario of [1, 2] as const) {
    rows.push({ heading: scenario === 1 ? '1. Authenticated GET of a requiresAuth() route (same session payload)' : '2. Anonymous GET of a public route' });
    for (const r of results.filter((x) => x.scenario === scenario)) rows.push({ result: r });
  }
  const rps = (r: ThroughputResult): number => median(r.samples.map((s) => s.rps));
  const cpu = (r: ThroughputResult): number => median(r.samples.map((s) => s.cpuMicrosPerRequest));
  const maxRps = Math.max(...results.map(rps));
  const maxCpu = Math.max(...results.map(cpu));
  const height = TOP + rows.length * ROW + 40;
  const xRps = LABEL_W;
  const xCpu = LABEL_W + PANEL_W + GAP;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(WIDTH)}" height="${String(height)}" viewBox="0 0 ${String(WIDTH)} ${String(height)}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="15" font-weight="bold">express-oidc-auth benchmark: scenarios 1 and 2</text>`);
  out.push(`<text x="12" y="40" fill="#555">${esc(subtitle)}</text>`);
  out.push(`<text x="${String(xRps)}" y="${String(TOP - 8)}" font-weight="bold">requests/s (median, higher is better)</text>`);
  out.push(`<text x="${String(xCpu)}" y="${String(TOP - 8)}" font-weight="bold">server CPU µs per request (median, lower is better)</text>`);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    if ('heading' in row) {
      out.push(`<text x="12" y="${String(y + 16)}" font-weight="bold" fill="#111">${esc(row.heading)}</text>`);
      return;
    }
    const r = row.result;
    const c = colour(r.id);
    const wRps = (rps(r) / maxRps) * (PANEL_W - 50);
    const wCpu = (cpu(r) / maxCpu) * (PANEL_W - 50);
    out.push(`<text x="${String(LABEL_W - 8)}" y="${String(y + 13)}" text-anchor="end">${esc(r.label)}</text>`);
    out.push(`<rect x="${String(xRps)}" y="${String(y + 1)}" width="${wRps.toFixed(1)}" height="${String(BAR)}" fill="${c}"/>`);
    out.push(`<text x="${(xRps + wRps + 4).toFixed(1)}" y="${String(y + 13)}">${rps(r).toFixed(0)}</text>`);
    out.push(`<rect x="${String(xCpu)}" y="${String(y + 1)}" width="${wCpu.toFixed(1)}" height="${String(BAR)}" fill="${c}"/>`);
    out.push(`<text x="${(xCpu + wCpu + 4).toFixed(1)}" y="${String(y + 13)}">${cpu(r).toFixed(0)}</text>`);
  });
  const legendY = TOP + rows.length * ROW + 20;
  const legend: [string, string][] = [
    ['#2563eb', 'express-oidc-auth'],
    ['#9ca3af', 'express-session alone'],
    ['#f59e0b', 'express-openid-connect'],
    ['#4b5563', 'bare Express'],
  ];
  legend.forEach(([c, name], i) => {
    const x = 12 + i * 190;
    out.push(`<rect x="${String(x)}" y="${String(legendY - 10)}" width="12" height="12" fill="${c}"/>`);
    out.push(`<text x="${String(x + 18)}" y="${String(legendY)}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
