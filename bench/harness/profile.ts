import { readFileSync } from 'node:fs';

/** Summaries of a V8 .cpuprofile (node --cpu-prof): where a server's CPU time went, by package and by function. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
}

function packageOf(url: string, fn: string): string {
  if (url === '') return `(${fn.replace(/[()]/g, '')})`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/lib/')) return 'express-oidc-auth lib/';
  if (url.includes('/bench/')) return 'bench server';
  return url;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url === '' ? '' : ` ${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(lib|bench)\//, '$1/')}:${String(lineNumber + 1)}`;
  return `${functionName === '' ? '(anonymous)' : functionName}${file}`;
}

const pct = (n: number, total: number): string => `${((100 * n) / total).toFixed(1).padStart(5)} %`;

/** Self time by package, self time by function, and inclusive time by function, as percentages of the busy (non-idle) samples. */
export function summarizeProfile(file: string, top = 30): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const busy = profile.nodes.filter((n) => n.callFrame.functionName !== '(idle)').reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const selfByPackage = new Map<string, number>();
  const selfByFrame = new Map<string, number>();
  for (const n of profile.nodes) {
    if (n.callFrame.functionName === '(idle)' || (n.hitCount ?? 0) === 0) continue;
    const pkg = packageOf(n.callFrame.url, n.callFrame.functionName);
    selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + (n.hitCount ?? 0));
    const name = frameName(n);
    selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + (n.hitCount ?? 0));
  }
  // Inclusive time, counting a frame once per stack even when it recurses.
  const inclusive = new Map<string, number>();
  const onStack = new Map<string, number>();
  const visit = (id: number, depth: number): number => {
    const node = byId.get(id);
    if (node === undefined || depth > 2000) return 0;
    const name = frameName(node);
    onStack.set(name, (onStack.get(name) ?? 0) + 1);
    let total = node.callFrame.functionName === '(idle)' ? 0 : (node.hitCount ?? 0);
    for (const child of node.children ?? []) total += visit(child, depth + 1);
    const count = (onStack.get(name) ?? 1) - 1;
    if (count === 0) {
      onStack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + total);
    } else {
      onStack.set(name, count);
    }
    return total;
  };
  const root = profile.nodes[0];
  if (root !== undefined) visit(root.id, 0);
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  const lines = [`${file}: ${String(busy)} busy samples`, '', 'self time by package:'];
  for (const [k, v] of sorted(selfByPackage).slice(0, 15)) lines.push(`  ${pct(v, busy)}  ${k}`);
  lines.push('', 'self time by function:');
  for (const [k, v] of sorted(selfByFrame).slice(0, top)) lines.push(`  ${pct(v, busy)}  ${k}`);
  lines.push('', 'inclusive time by function:');
  for (const [k, v] of sorted(inclusive)
    .filter(([k]) => !k.startsWith('(root)'))
    .slice(0, 2 * top))
    lines.push(`  ${pct(v, busy)}  ${k}`);
  return `${lines.join('\n')}\n`;
}
