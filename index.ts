/**
 * What a subject file imports from lockstep: `defineSubject` and its types. See the README's
 * "Test your own lock".
 */
export { defineSubject } from './subjects/define.ts';
export type {
  SubjectContext,
  SubjectDefinition,
  SubjectElection,
  SubjectInstance,
  SubjectLeadership,
  SubjectLock,
  SubjectSettings,
} from './subjects/define.ts';
export type { SubjectClients } from './subjects/clients.ts';
