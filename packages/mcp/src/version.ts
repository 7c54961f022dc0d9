/** Reported to upstream servers (clientInfo) and downstream clients (serverInfo). */
export const VERSION = "0.1.0";
