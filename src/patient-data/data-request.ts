import type { Hook, Moment, OrderSubjects } from '../shared/hooks.js';

/** What the data layer needs from a hook call (the protocol layer builds it from a validated request). */
export interface DataRequest {
  hook: Hook;
  moment: Moment;
  subjects: OrderSubjects;
  /** The call's context: `patientId`, and the fields prefetch tokens may name (`userId`, `encounterId`). */
  context: Readonly<Record<string, unknown>> & { patientId: string };
  /** The draft orders the call carries (with the Medications they reference), for hooks that evaluate drafts. */
  draftOrders?: readonly { resourceType: string }[];
  /** order-select: the selected draft orders, as `MedicationRequest/<id>`. */
  selections?: readonly string[];
  prefetch?: Readonly<Record<string, unknown>>;
  /** The EHR's FHIR server and the access token for it. */
  fhirServer?: string;
  accessToken?: string;
}
