/** Transfers in flight, from [sync] concurrency or --concurrency: past it, sockets and memory, not the network, set the pace. */
export const maxConcurrency = 1024;
