// The control plane's ServiceControl when there are capture workers: each edit is applied here first (that is
// where it is validated and refused whole), then the same named edit goes to every worker. Edits made inside an
// edit (a batch's lines, clear's deletions) travel once, as the outer command.
import { EDITS, ServiceControl, type ControlParts } from '../control/service-control';

type Args = Record<string, unknown>;
type Edit = (a: Args) => void;

/** Every edit a command may name, and batch (its lines are edits too): a new edit in EDITS replicates by itself. */
const REPLICATED: readonly string[] = [...Object.keys(EDITS), 'batch'];

export class ReplicatedControl extends ServiceControl {
  private depth = 0;

  constructor(parts: ControlParts, private readonly fanOut: (cmd: string, args: Args) => void) {
    super(parts);
    // Own properties over the prototype's methods, so calls from inside (clear -> deleteService) come here too.
    const self = this as unknown as Record<string, Edit>;
    for (const cmd of REPLICATED) {
      const apply = self[cmd].bind(this);
      self[cmd] = (a: Args = {}) => this.replicate(cmd, a, () => apply(a));
    }
  }

  private replicate(cmd: string, a: Args, apply: () => void): void {
    this.depth++;
    try {
      apply();
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.fanOut(cmd, a);
  }
}
