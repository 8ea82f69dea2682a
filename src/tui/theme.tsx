import { createContext, useContext } from 'react';
import type { Tone } from './viewModel.js';

const COLORS: Record<Tone, string | undefined> = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  info: 'cyan',
  dim: 'gray',
  accent: 'magenta',
  plain: undefined,
};

/** Colour on or off (`NO_COLOR`, `--no-color`): components ask for tones, never for colours. */
export const ColorContext = createContext(true);

export function useToneColor(): (tone: Tone) => string | undefined {
  const color = useContext(ColorContext);
  return (tone) => (color ? COLORS[tone] : undefined);
}
