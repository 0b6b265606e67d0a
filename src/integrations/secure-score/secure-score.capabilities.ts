import { readCheck, type Capability } from '../../tenants/capability';

const SECURE_SCORE: Capability = { name: 'secure-score', permissions: ['SecurityEvents.Read.All'], licence: null };

/** Reading the latest daily score decides it (microsoft-notes §3.1). */
export const SECURE_SCORE_CAPABILITIES = readCheck(SECURE_SCORE, ({ graph }) => graph.get('/security/secureScores', { query: { $top: '1' } }));
