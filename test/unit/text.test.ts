import { describe, expect, it } from 'vitest';
import { displayCommand, oneLine, stripControl } from '../../src/core/util/text.js';

describe('text helpers', () => {
  it('strips CSI, OSC, DCS and bare control characters from agent text', () => {
    expect(stripControl('a\u001b[31mred\u001b[0m b')).toBe('ared b');
    expect(stripControl('x\u001b]0;evil title\u0007y')).toBe('xy');
    expect(stripControl('x\u001b]8;;http://e\u001b\\link\u001b]8;;\u001b\\y')).toBe('xlinky');
    expect(stripControl('bell\u0007 back\bspace\r')).toBe('bell backspace');
    expect(stripControl('tab\tand\nnewline stay')).toBe('tab\tand\nnewline stay');
    expect(stripControl('\u009b2Jc1')).toBe('c1');
  });

  it('makes one bounded line', () => {
    expect(oneLine('  hello\n\n  world  ')).toBe('hello world');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
  });

  it('shows the command inside the shell wrapper', () => {
    expect(displayCommand("/bin/bash -lc 'npm test'")).toBe('npm test');
    expect(displayCommand('/bin/zsh -lc "ls -la"')).toBe('ls -la');
    expect(displayCommand('git status')).toBe('git status');
  });
});
