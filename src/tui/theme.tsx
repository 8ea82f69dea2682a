import chalk, { type ChalkInstance, type ForegroundColorName } from 'chalk';
import { createContext, useContext } from 'react';
import type { Tone } from './viewModel.js';

const COLORS: Record<Tone, ForegroundColorName | undefined> = {
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

/** Text with terminal styles, as Ink's Text draws it: the tone only when colour is on, bold and inverse always. */
export function paint(text: string, style: { tone?: Tone; bold?: boolean; inverse?: boolean }, color: boolean): string {
  if (!text) return text;
  const name = color && style.tone ? COLORS[style.tone] : undefined;
  let styled: ChalkInstance | null = name ? chalk[name] : null;
  if (style.bold) styled = (styled ?? chalk).bold;
  if (style.inverse) styled = (styled ?? chalk).inverse;
  return styled ? styled(text) : text;
}
