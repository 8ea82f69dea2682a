/**
 * Desktop notifications through the terminal itself, so they reach the person's own machine
 * over SSH: OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty) and OSC 777 (rxvt, foot, VTE),
 * plus the bell. Inside tmux, escape sequences must be wrapped in a DCS passthrough or tmux
 * swallows them.
 */
import { stripControl } from '../../core/util/text.js';

const ESC = '\u001b';
const BEL = '\u0007';

function clean(text: string): string {
  // The payload sits inside an OSC string: no control characters and no ';' (OSC 777 separator).
  return stripControl(text).replace(/[\r\n]+/g, ' ').replace(/;/g, ',').slice(0, 200);
}

function tmuxWrap(sequence: string): string {
  return `${ESC}Ptmux;${sequence.replaceAll(ESC, ESC + ESC)}${ESC}\\`;
}

export function notificationSequence(title: string, body: string, options: { tmux: boolean; bell: boolean }): string {
  const osc9 = `${ESC}]9;${clean(`${title}: ${body}`)}${BEL}`;
  const osc777 = `${ESC}]777;notify;${clean(title)};${clean(body)}${BEL}`;
  const sequences = options.tmux ? tmuxWrap(osc9) + tmuxWrap(osc777) : osc9 + osc777;
  return sequences + (options.bell ? BEL : '');
}
