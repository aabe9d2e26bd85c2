// The control plane's ServiceControl when there are capture workers: each edit is applied here first (that is
// where it is validated and refused whole), then the same named edit goes to every worker. Edits made inside an
// edit (a batch's lines, clear's deletions) travel once, as the outer command.
import { ServiceControl, type ControlParts } from '../control/service-control';

type Args = Record<string, unknown>;

export class ReplicatedControl extends ServiceControl {
  private depth = 0;

  constructor(parts: ControlParts, private readonly fanOut: (cmd: string, args: Args) => void) {
    super(parts);
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

  override addService(a: Args): void {
    this.replicate('addService', a, () => super.addService(a));
  }

  override editService(a: Args): void {
    this.replicate('editService', a, () => super.editService(a));
  }

  override deleteService(a: Args): void {
    this.replicate('deleteService', a, () => super.deleteService(a));
  }

  override clear(): void {
    this.replicate('clear', {}, () => super.clear());
  }

  override addDest(a: Args): void {
    this.replicate('addDest', a, () => super.addDest(a));
  }

  override editDest(a: Args): void {
    this.replicate('editDest', a, () => super.editDest(a));
  }

  override deleteDest(a: Args): void {
    this.replicate('deleteDest', a, () => super.deleteDest(a));
  }

  override setTimeouts(a: Args): void {
    this.replicate('setTimeouts', a, () => super.setTimeouts(a));
  }

  override zero(a: Args): void {
    this.replicate('zero', a, () => super.zero(a));
  }

  override addLaddr(a: Args): void {
    this.replicate('addLaddr', a, () => super.addLaddr(a));
  }

  override delLaddr(a: Args): void {
    this.replicate('delLaddr', a, () => super.delLaddr(a));
  }

  override batch(a: Args): void {
    this.replicate('batch', a, () => super.batch(a));
  }
}
