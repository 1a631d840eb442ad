// The NOTIFY channel on which validation announces queued lines, so idle workers claim at once rather
// than at their next poll. Without it (CONFIG_SYNC=poll, a lost notification) the heartbeat, which
// says whether jobs wait, wakes them (lib/platform/process/boot.ts).
export const BATCH_QUEUE_CHANNEL = "agenticorp_batch_queue";
