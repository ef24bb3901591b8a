/**
 * Transfers in flight, from [sync] concurrency or --concurrency: past it, sockets and memory, not the network, set the pace.
 * Also verify's listings in flight, each cut into ranges at id quantiles: a larger count would only swamp that one query.
 */
export const maxConcurrency = 1024;
