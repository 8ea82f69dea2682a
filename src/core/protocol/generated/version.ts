// Written by scripts/gen-protocol.mjs: the @openai/codex version these bindings came from.
export const GENERATED_FROM_CODEX_VERSION = "0.171.0";
