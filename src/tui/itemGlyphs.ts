/** A glyph per kind of thread item, shared by the detail view and the transcript: `›` you, `‹` the agent, `$` a command. */
export const ITEM_GLYPHS: Record<string, string> = {
  userMessage: '›',
  agentMessage: '‹',
  reasoning: '∴',
  commandExecution: '$',
  fileChange: '±',
  mcpToolCall: '⚙',
  dynamicToolCall: '⚙',
  webSearch: '⌕',
};
