// The two parts of undici the HTTP client uses, imported by path so the bundle leaves out fetch,
// WebSocket, cookies and the rest that undici's main entry loads (about 40 ms of every start-up
// that makes a request: bench/README.md). Their types are undici's own.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  /** undici's `Dispatcher.prototype.request`, called with the dispatcher as `this`. */
  const request: (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
  export default request;
}
