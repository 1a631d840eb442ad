// The NOTIFY channel on which validation announces queued lines, so idle workers claim at once rather
// than at their next poll (which stays the safety net for missed notifications).
export const BATCH_QUEUE_CHANNEL = "agenticorp_batch_queue";
