/**
 * Prefetch template tokens (CDS Hooks 2.0 §Prefetch tokens, https://cds-hooks.hl7.org/2.0/#prefetch-tokens): `{{context.<field>}}` for the root-level
 * primitive fields our hooks mark as prefetch tokens, and the four `{{user*Id}}` tokens derived from
 * `context.userId`. STU2 has no other tokens (no `today()`).
 */

const CONTEXT_TOKENS = ['userId', 'patientId', 'encounterId'] as const;

const USER_TOKENS: Record<string, string> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

// Values go into a URL sent with the EHR's token: only FHIR ids (and `Type/id` for userId) qualify,
// and never a bare `.`/`..`, which a URL parser would turn into a path step.
const SAFE_ID = /^(?!\.{1,2}$)[A-Za-z0-9\-.]{1,64}$/;

/** The value of each token the request can fill; a token not in the map has no value. */
export function tokenValues(context: Readonly<Record<string, unknown>>): Map<string, string> {
  const values = new Map<string, string>();
  const fields = context;
  for (const name of CONTEXT_TOKENS) {
    const value = fields[name];
    if (typeof value !== 'string') continue;
    const ok = name === 'userId' ? value.split('/').length === 2 && value.split('/').every((p) => SAFE_ID.test(p)) : SAFE_ID.test(value);
    if (ok) values.set(`context.${name}`, value);
  }
  const [userType, userId] = typeof context.userId === 'string' ? context.userId.split('/') : [];
  for (const [token, type] of Object.entries(USER_TOKENS)) {
    if (userType === type && userId !== undefined && SAFE_ID.test(userId)) values.set(token, userId);
  }
  return values;
}

/**
 * Fills a prefetch template. Returns undefined when any token has no value: such a template is not
 * fetched (the client could not have filled it either).
 */
export function fillTemplate(template: string, values: ReadonlyMap<string, string>): string | undefined {
  let unfilled = false;
  const filled = template.replace(/{{([^{}]*)}}/g, (_match, token: string) => {
    const value = values.get(token.trim());
    if (value === undefined) unfilled = true;
    return value ?? '';
  });
  return unfilled ? undefined : filled;
}
