// The Cedar schema generated from govauth's model, against which every policy set is validated
// before it can be activated (Cedar "strict" validation: a policy naming an unknown scope,
// attribute or context field is refused). https://docs.cedarpolicy.com/schema/json-schema.html
//
// Principals: Person (a person's token through an app), Client (client_credentials), Agent (a
// client acting for a person, token exchange: RFC 8693). Actions: one per scope, named after it
// (Action::"ai.deploy.manage"). Resources: govauth resources, by audience. Attributes of people
// and clients and labels of resources and scopes are entity tags (String). Context: see CONTEXT.
import type { SchemaJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicySnapshot } from '../policy-model.ts';

const STRING = { type: 'String' } as const;
const LONG = { type: 'Long' } as const;
const BOOL = { type: 'Boolean' } as const;
const STRINGS = { type: 'Set', element: STRING } as const;
const entity = (name: string) => ({ type: 'Entity', name }) as const;

/** What every request carries, the same for every action (README "Policies" documents each field). */
const CONTEXT = {
  type: 'Record',
  attributes: {
    // The instant of the decision in UTC: hour 0-23, minute 0-59, ISO weekday 1 (Monday) - 7 (Sunday).
    hour: LONG,
    minute: LONG,
    weekday: LONG,
    // The request's source address (absent when unknown: a token judged again at introspection).
    sourceIp: { type: 'Extension', name: 'ipaddr', required: false },
    // Names of the network zones (govauth policy zone) the source address is in.
    zones: STRINGS,
    // How the person authenticated (RFC 8176 amr values) and whether a second factor was among them.
    amr: STRINGS,
    mfa: BOOL,
    // Seconds since that authentication (present when mfa).
    mfaAgeSeconds: { ...LONG, required: false },
    // Proof of possession the token is bound to: "dpop" (RFC 9449), "mtls" (RFC 8705) or "none".
    binding: STRING,
    // Actors between the person and this client (0: not delegated; token exchange adds one per hop).
    delegationDepth: LONG,
    grantType: STRING,
    client: entity('Client'),
    scope: entity('Scope'),
  },
} as const;

const TAGGED = (attributes: Record<string, unknown>) => ({ shape: { type: 'Record', attributes }, tags: STRING });

export function cedarSchema(snapshot: PolicySnapshot): SchemaJson<string> {
  const actions: Record<string, unknown> = {};
  for (const scope of [...snapshot.scopes.keys()].sort()) {
    actions[scope] = { appliesTo: { principalTypes: ['Person', 'Client', 'Agent'], resourceTypes: ['Resource'], context: { type: 'Context' } } };
  }
  const namespace = {
    commonTypes: { Context: CONTEXT },
    entityTypes: {
      Person: TAGGED({ email: STRING, roles: STRINGS, mfaEnrolled: BOOL }),
      Client: TAGGED({ name: STRING, roles: STRINGS }),
      Agent: { shape: { type: 'Record', attributes: { client: entity('Client'), person: entity('Person') } } },
      Resource: TAGGED({ audience: STRING, name: STRING }),
      Scope: TAGGED({ name: STRING, sensitivity: STRING }),
    },
    actions,
  };
  return { '': namespace } as unknown as SchemaJson<string>;
}
