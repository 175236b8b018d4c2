// The part of undici the HTTP client uses (its Agent), imported by path so the bundle leaves out
// fetch, WebSocket, cookies and the rest that undici's main entry loads (about 40 ms of every
// start-up that makes a request: bench/README.md). Its types are undici's own.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export default Agent;
}
