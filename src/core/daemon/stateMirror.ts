import type { StateChange } from '../api/supervisorApi.js';
import type { SupervisorEvent } from '../state/events.js';
import { snapshotOf, type SignalRecord, type SupervisorState } from '../state/model.js';
import { reduce } from '../state/reducer.js';

/**
 * A client's copy of the daemon's state: one snapshot at attach, then every event the daemon
 * reduced, reduced here by the same `reduce` (it is pure and keeps nothing between states), so
 * the copy stays equal to the daemon's without re-reading it. Events that arrive before the
 * snapshot are held; an event whose sequence number does not follow is a gap, and the copy is
 * dropped until a new snapshot arrives.
 */
export class StateMirror {
  private state: SupervisorState | null = null;
  /** Events received while waiting for a snapshot, in order. */
  private held: { seq: number; event: SupervisorEvent }[] = [];

  get ready(): boolean {
    return this.state !== null;
  }

  /** A copy readers may keep (see snapshotOf); null while waiting for a snapshot. */
  copy(): SupervisorState | null {
    return this.state ? snapshotOf(this.state) : null;
  }

  /** The live copy, to read only. */
  current(): Readonly<SupervisorState> | null {
    return this.state;
  }

  /** Forgets the copy: events are held until `reset` gives a new snapshot. */
  invalidate(): void {
    this.state = null;
    this.held = [];
  }

  /**
   * Starts from a snapshot (already parsed from JSON: this object becomes the copy), then
   * applies the held events that came after it. Returns their changes.
   */
  reset(snapshot: SupervisorState): StateChange[] {
    this.state = snapshot;
    const held = this.held;
    this.held = [];
    const changes: StateChange[] = [];
    for (const { seq, event } of held) {
      if (seq <= snapshot.seq) continue;
      const change = this.apply(seq, event);
      if (change === 'gap') return changes;
      if (typeof change !== 'string') changes.push(change);
    }
    return changes;
  }

  /** One event of the daemon: its change; `held` before the first snapshot; `stale` when the snapshot had it; `gap`. */
  apply(seq: number, event: SupervisorEvent): StateChange | 'held' | 'stale' | 'gap' {
    const state = this.state;
    if (state === null) {
      this.held.push({ seq, event });
      return 'held';
    }
    if (seq <= state.seq) return 'stale';
    if (seq !== state.seq + 1) {
      this.invalidate();
      return 'gap';
    }
    const [, effects] = reduce(state, event);
    const raised: SignalRecord[] = [];
    for (const effect of effects) {
      if (effect.type !== 'notify') continue;
      const signal = state.signals[effect.signalId];
      if (signal) raised.push(signal);
    }
    return { seq, atMs: event.atMs, eventType: event.type, raised };
  }
}
