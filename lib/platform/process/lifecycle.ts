// What this instance knows about itself: when it started, whether migrations are applied,
// whether it is draining, and how many data-plane requests are in flight.
export class InstanceState {
  readonly startedAt = Date.now();
  migrationsApplied = false;
  draining = false;
  inFlight = 0;

  uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }
}
