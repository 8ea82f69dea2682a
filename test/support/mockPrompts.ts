/**
 * Prompts that make the real Codex, driven by the mock model's `[exec-sandboxed …]`, write a
 * file with `apply_patch` (Codex intercepts the command and applies the patch itself): the turn
 * then sends `turn/diff/updated`. Needs a thread whose sandbox lets it write (workspace-write).
 */
export function addFilePrompt(file: string, lines: string[], words = 'add the file'): string {
  const patch = ['*** Begin Patch', `*** Add File: ${file}`, ...lines.map((l) => `+${l}`), '*** End Patch'].join('\n');
  return `[exec-sandboxed apply_patch <<'EOF'\n${patch}\nEOF] ${words}`;
}
