import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { privateKeyProblem } from './key-material.ts';

/**
 * The only reader of process.env. Everything the service can be told from outside is parsed
 * here once, so a bad value stops the process at boot instead of surfacing mid-request.
 */

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
  .transform((value) => value === 'true' || value === '1');

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const KEY_TYPE_OF_ALGORITHM = { ES256: 'ec', EdDSA: 'ed25519' } as const;

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' });

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5s,5m,30m,2h`: the delays before each retry, in milliseconds. */
const durationList = z
  .string()
  .regex(/^\d{1,6}(ms|s|m|h|d)(,\d{1,6}(ms|s|m|h|d)){0,19}$/, { error: 'must be durations like 5s,5m,2h (ms, s, m, h, d), at most 20' })
  .transform((text) =>
    text.split(',').map((item) => {
      const [, amount = '0', unit = 'ms'] = /^(\d+)(ms|s|m|h|d)$/.exec(item) ?? [];
      return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
    }),
  );

const limit = z.number().int().min(1).nullable();
// Custom roles may be left out of a plan's JSON (they came later): the plan's default then holds.
const customRoleLimit = z.number().int().min(0).nullable().optional();
const planLimitsInput = z.strictObject({
  members: limit,
  workspaces: limit,
  custom_roles: customRoleLimit,
  custom_roles_per_member: customRoleLimit,
});
type Tier = 'free' | 'pro' | 'enterprise';
export interface PlanLimits {
  members: number | null;
  workspaces: number | null;
  /** Custom roles an organization may define; 0 leaves the feature off. */
  custom_roles: number | null;
  /** Custom roles one member (or team) may hold, across the organization and its workspaces together. */
  custom_roles_per_member: number | null;
}

const DEFAULT_PLAN_LIMITS: Record<Tier, PlanLimits> = {
  free: { members: 5, workspaces: 3, custom_roles: 3, custom_roles_per_member: 2 },
  pro: { members: 50, workspaces: 20, custom_roles: 25, custom_roles_per_member: 5 },
  enterprise: { members: null, workspaces: null, custom_roles: null, custom_roles_per_member: 20 },
};

function withCustomRoleDefaults(tier: Tier, limits: z.output<typeof planLimitsInput>): PlanLimits {
  return {
    members: limits.members,
    workspaces: limits.workspaces,
    custom_roles: limits.custom_roles === undefined ? DEFAULT_PLAN_LIMITS[tier].custom_roles : limits.custom_roles,
    custom_roles_per_member:
      limits.custom_roles_per_member === undefined ? DEFAULT_PLAN_LIMITS[tier].custom_roles_per_member : limits.custom_roles_per_member,
  };
}

/** JSON like {"free": {"members": 5, "workspaces": 3}, ...}; null means unlimited. */
const planLimitsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.strictObject({ free: planLimitsInput, pro: planLimitsInput, enterprise: planLimitsInput }))
  .transform(
    (plans): Record<Tier, PlanLimits> => ({
      free: withCustomRoleDefaults('free', plans.free),
      pro: withCustomRoleDefaults('pro', plans.pro),
      enterprise: withCustomRoleDefaults('enterprise', plans.enterprise),
    }),
  );

const environmentSchema = z
  .object({
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: integer(0, 65535).default(8080),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    // 1 MiB: room for a 1,000-item check-bulk; a 1 MB password still reaches validation (422), not 413.
    BODY_LIMIT_BYTES: integer(1024, 10 * 1024 * 1024).default(1024 * 1024),
    SHUTDOWN_GRACE_MS: integer(0, 120_000).default(10_000),
    TRUST_PROXY: booleanFlag.default(false),
    // How many proxies append to X-Forwarded-For: the client is the entry that many places from the right.
    TRUST_PROXY_HOPS: integer(1, 10).default(1),

    DATABASE_URL: postgresUrl.optional(),
    DATA_DIR: z.string().min(1).default('.data'),
    EMBEDDED_POSTGRES_PORT: integer(1, 65535).default(54329),
    // Connections this instance holds at most; Postgres's max_connections is shared by every instance.
    DATABASE_POOL_MAX: integer(1, 1000).default(10),

    SPICEDB_ENDPOINT: z
      .string()
      .regex(/^[^\s:/]+:\d{1,5}$/, { error: 'must be host:port' })
      .optional(),
    SPICEDB_PRESHARED_KEY: z.string().min(1).optional(),
    SPICEDB_INSECURE: booleanFlag.default(false),
    SPICEDB_TIMEOUT_MS: integer(50, 60_000).default(2_000),
    // Check decisions kept until the next acknowledged write (or these ages): 0 entries turns it off.
    DECISION_CACHE_ENTRIES: integer(0, 1_000_000).default(10_000),
    DECISION_CACHE_MAX_AGE_MS: integer(1, 60_000).default(2_000),
    DECISION_CACHE_DENIAL_MAX_AGE_MS: integer(1, 600_000).default(30_000),
    OUTBOX_POLL_MS: integer(10, 60_000).default(500),

    JWT_ISSUER: z.string().min(1).default('tenant-authz'),
    JWT_AUDIENCE: z.string().min(1).default('tenant-authz'),
    JWT_ALGORITHM: z
      .enum(['ES256', 'EdDSA'], { error: 'must be ES256 or EdDSA' })
      .default('ES256'),
    JWT_ACCESS_TTL_SECONDS: integer(60, 24 * 3600).default(900),
    JWT_PRIVATE_KEY: z.string().min(1).optional(),
    REFRESH_TOKEN_TTL_SECONDS: integer(300, 365 * 24 * 3600).default(30 * 24 * 3600),

    // log2 of scrypt's N. 17 (128 MiB per hash) is OWASP's recommendation; lower only for tests.
    PASSWORD_HASH_COST: integer(10, 20).default(17),
    // One core stays free for requests that do not hash.
    PASSWORD_HASH_CONCURRENCY: integer(1, 256).default(Math.max(1, availableParallelism() - 1)),
    PASSWORD_HASH_QUEUE: integer(0, 10_000).default(8),
    // Password checks one account (per lane: its known clients, everyone else) or one client address
    // may have running or waiting at once on an instance; past it, 429 at once with no hashing.
    PASSWORD_HASH_PER_ACCOUNT: integer(1, 10_000).default(2),
    PASSWORD_HASH_PER_ADDRESS: integer(1, 10_000).default(4),
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: integer(1, 1_000).default(5),
    LOGIN_MAX_FAILURES_PER_ACCOUNT: integer(1, 100_000).default(50),
    LOGIN_MAX_FAILURES_PER_ADDRESS: integer(1, 100_000).default(100),
    LOGIN_THROTTLE_WINDOW_SECONDS: integer(1, 24 * 3600).default(900),
    // How long an address or a device token that signed in to an account stays known to it.
    LOGIN_KNOWN_CLIENT_DAYS: integer(1, 3650).default(30),
    SIGNUP_MAX_PER_ADDRESS: integer(1, 100_000).default(20),
    // Account mails asked for (forgot password, verification resends) and mailed tokens presented,
    // per typed address and per client address, in the login throttle's window (429 past either).
    ACCOUNT_MAIL_MAX_PER_ACCOUNT: integer(1, 10_000).default(5),
    ACCOUNT_MAIL_MAX_PER_ADDRESS: integer(1, 100_000).default(30),
    // An account gets at most one mail of a kind (verification, reset) this often; more asks send nothing new.
    ACCOUNT_MAIL_COOLDOWN_SECONDS: integer(0, 24 * 3600).default(60),
    EMAIL_VERIFICATION_TTL_SECONDS: integer(300, 30 * 24 * 3600).default(3 * 24 * 3600),
    RESET_TOKEN_TTL_SECONDS: integer(60, 24 * 3600).default(30 * 60),
    // Deleting one's account without the password needs a session signed in this recently.
    ACCOUNT_REAUTH_MINUTES: integer(1, 24 * 60).default(10),
    // The issuer an authenticator app shows beside a TOTP entry; wrong second-factor codes before 429.
    MFA_ISSUER: z.string().min(1).max(100).regex(/^[^:]+$/, { error: 'must not contain a colon' }).default('tenant-authz'),
    MFA_MAX_FAILURES_PER_ACCOUNT: integer(1, 1_000).default(10),
    MFA_MAX_FAILURES_PER_ADDRESS: integer(1, 100_000).default(50),

    PLAN_LIMITS: planLimitsJson.default(DEFAULT_PLAN_LIMITS),
    // Safety bounds, whatever the plan: SpiceDB walks a nesting per check (at its default dispatch
    // depth of 50, lookups through 46 nested teams failed), and every team widens a lookup.
    TEAMS_MAX_NESTING_DEPTH: integer(1, 40).default(10),
    TEAMS_MAX_PER_ORGANIZATION: integer(1, 100_000).default(1_000),
    SERVICE_ACCOUNT_CACHE_SECONDS: integer(0, 300).default(10),
    POLICY_DIR: z.string().min(1).optional(),

    SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
    MAIL_FROM: z.string().min(3).default('tenant-authz <no-reply@localhost>'),
    // Audit events older than this many days are pruned (the chains stay verifiable); unset keeps them forever.
    AUDIT_RETENTION_DAYS: integer(1, 100 * 365).optional(),
    // Ed25519 (PKCS#8 PEM or JWK) that signs checkpoints of the audit chains' heads; kept out of the database.
    AUDIT_CHECKPOINT_KEY: z.string().min(1).optional(),
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: integer(1, 7 * 24 * 3600).default(600),
    // Whence the keys of ZedTokens and cursors handed to clients; unset: generated once, kept in Postgres.
    SERVER_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
    LOOKUP_CURSOR_TTL_SECONDS: integer(1, 24 * 3600).default(300),
    // Where the accept link of an invitation points; defaults to this service on localhost.
    PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    // Where mailed links (invitations, verification, reset) point instead of this service's own pages:
    // a front end serving /invitations/{token}, /verify-email/{token} and /reset-password/{token}.
    MAIL_LINK_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    // Sends tried before a message is dropped and its invitation reads delivery: failed. The backoff
    // doubles from 0.5 s up to 5 min, so the default 12 keep trying for about 13 minutes.
    MAIL_MAX_ATTEMPTS: integer(1, 100).default(12),
    // Invitation messages (invitations, resends, memberships proposed to an account) written within
    // a sliding window, per organization and per inviter (over all their organizations); past
    // either, 429 with Retry-After. A resend of one invitation waits out the cooldown.
    INVITATION_MAILS_PER_ORGANIZATION: integer(1, 1_000_000).default(100),
    INVITATION_MAILS_PER_INVITER: integer(1, 1_000_000).default(50),
    INVITATION_MAIL_WINDOW_SECONDS: integer(1, 7 * 24 * 3600).default(3600),
    INVITATION_RESEND_COOLDOWN_SECONDS: integer(0, 24 * 3600).default(300),
    // Events (docs/audit-and-events.md, "Events"): kept this many days; a feed cursor older than that is answered 410.
    EVENTS_RETENTION_DAYS: integer(1, 3650).default(30),
    // How often the webhook fan-out, the deliveries and the JetStream publisher look for new work.
    EVENTS_POLL_MS: integer(10, 60_000).default(100),
    WEBHOOK_TIMEOUT_MS: integer(100, 60_000).default(15_000),
    // The delays before each retry of a failed delivery (the first attempt is at once): about a day in all.
    WEBHOOK_RETRY_SCHEDULE: durationList.default([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]),
    // An endpoint that has failed every delivery for this long is disabled.
    WEBHOOK_DISABLE_AFTER_DAYS: integer(1, 60).default(5),
    // Endpoints on private, loopback and link-local addresses: for development and tests only.
    WEBHOOK_ALLOW_PRIVATE_URLS: booleanFlag.default(false),
    WEBHOOK_MAX_IN_FLIGHT: integer(1, 1000).default(32),
    EVENTS_NATS_URL: z.url({ protocol: /^(nats|tls)$/, error: 'must be a nats:// or tls:// URL' }).optional(),
    EVENTS_NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1-64 letters, digits, _ or -' }).default('TENANT_AUTHZ_EVENTS'),
    EVENTS_NATS_SUBJECT_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,7}$/, { error: 'must be dot-separated tokens of letters, digits, _ or -' })
      .default('tenant_authz.events'),
  })
  .superRefine((env, ctx) => {
    if (env.JWT_PRIVATE_KEY) {
      const problem = privateKeyProblem(env.JWT_PRIVATE_KEY, KEY_TYPE_OF_ALGORITHM[env.JWT_ALGORITHM], env.JWT_ALGORITHM);
      if (problem) ctx.addIssue({ code: 'custom', path: ['JWT_PRIVATE_KEY'], message: problem });
    }
    if (env.AUDIT_CHECKPOINT_KEY) {
      const problem = privateKeyProblem(env.AUDIT_CHECKPOINT_KEY, 'ed25519', 'audit checkpoints (Ed25519)');
      if (problem) ctx.addIssue({ code: 'custom', path: ['AUDIT_CHECKPOINT_KEY'], message: problem });
    }
    if (env.SPICEDB_ENDPOINT && !env.SPICEDB_PRESHARED_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['SPICEDB_PRESHARED_KEY'],
        message: 'is required when SPICEDB_ENDPOINT is set',
      });
    }
  });

// Their values may hold credentials, so errors name them without echoing the value.
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'SPICEDB_PRESHARED_KEY', 'JWT_PRIVATE_KEY', 'SMTP_URL', 'AUDIT_CHECKPOINT_KEY', 'SERVER_SECRET', 'EVENTS_NATS_URL']);

type Environment = z.output<typeof environmentSchema>;

export interface DecisionCacheConfig {
  entries: number;
  /** How long an allow is kept: bounds how late an expiry shows. */
  maxAgeMs: number;
  /** How long a denial is kept, when the schema lets time only revoke (DecisionCache). */
  denialMaxAgeMs: number;
}

export type SpiceDbConfig = (
  | { mode: 'embedded' }
  | {
      mode: 'server';
      endpoint: string;
      presharedKey: string;
      insecure: boolean;
    }
) & { timeoutMs: number; decisionCache: DecisionCacheConfig };

export type DatabaseConfig = { poolMax: number } & (
  | { mode: 'external'; url: string }
  | { mode: 'embedded'; dataDir: string; port: number }
);

export interface EventsConfig {
  retentionDays: number;
  pollMs: number;
  webhooks: {
    timeoutMs: number;
    /** The delay before retry n is retryDelaysMs[n - 1]; a delivery is given up after the last. */
    retryDelaysMs: number[];
    disableAfterMs: number;
    allowPrivateUrls: boolean;
    maxInFlight: number;
  };
  /** null: events are not published to NATS. */
  nats: { url: string; stream: string; subjectPrefix: string } | null;
}

export interface Config {
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    shutdownGraceMs: number;
    trustProxy: boolean;
    trustProxyHops: number;
    /** PUBLIC_URL as given (the AuthZEN policy_decision_point); unset, each request's origin stands in. */
    publicUrl: string | undefined;
  };
  logLevel: Environment['LOG_LEVEL'];
  database: DatabaseConfig;
  spicedb: SpiceDbConfig;
  outbox: { pollMs: number };
  planLimits: Environment['PLAN_LIMITS'];
  /** maxNestingDepth: teams in the longest chain of teams inside teams. */
  teams: { maxNestingDepth: number; maxPerOrganization: number };
  serviceAccountCacheSeconds: number;
  /** Where policy modules (`<name>.zed`) are read from; unset: `policy/` beside schema.zed. */
  policyDirectory: string | undefined;
  /** smtpUrl unset: messages are logged at info level instead of sent. */
  /** linkBaseUrl: where mailed links point (MAIL_LINK_BASE_URL, else publicUrl, this service's own pages). */
  mail: { smtpUrl: string | undefined; from: string; publicUrl: string; linkBaseUrl: string; pollMs: number; maxAttempts: number };
  accountMail: AccountMailLimits;
  invitationMail: InvitationMailLimits;
  passwords: { cost: number; concurrency: number; queue: number; perAccount: number; perAddress: number };
  /** retentionDays null: audit events are kept forever. checkpointKey unset: no checkpoints are signed. */
  audit: { retentionDays: number | null; checkpointKey: string | undefined; checkpointIntervalSeconds: number };
  /** serverSecret unset: one is generated at first boot and kept in Postgres. */
  sealing: { serverSecret: string | undefined; lookupCursorTtlSeconds: number };
  events: EventsConfig;
  /** recentSignInMinutes: how fresh a sign-in stands in for the password when deleting the account. */
  account: { recentSignInMinutes: number };
  /** Wrong second-factor codes are counted over the login throttle's window. */
  mfa: { issuer: string; maxFailuresPerAccount: number; maxFailuresPerAddress: number; windowSeconds: number };
  loginThrottle: {
    maxFailuresPerAccountAndAddress: number;
    maxFailuresPerAccount: number;
    maxFailuresPerAddress: number;
    windowSeconds: number;
    knownClientDays: number;
    maxSignupsPerAddress: number;
  };
  jwt: {
    issuer: string;
    audience: string;
    algorithm: Environment['JWT_ALGORITHM'];
    accessTtlSeconds: number;
    privateKey: string | undefined;
    refreshTtlSeconds: number;
  };
}

/** Mails about one's own account and the tokens they carry (src/services/account-mail.ts). */
export interface AccountMailLimits {
  perAccount: number;
  perAddress: number;
  windowSeconds: number;
  cooldownSeconds: number;
  verificationTtlSeconds: number;
  resetTtlSeconds: number;
}

/** How much invitation mail one organization and one inviter may cause (src/services/invitation-mail-quota.ts). */
export interface InvitationMailLimits {
  perOrganization: number;
  perInviter: number;
  windowSeconds: number;
  resendCooldownSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError whose message is one line naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const definedOnly = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(definedOnly);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [variable = 'environment', ...inside] = issue.path.map(String);
      const received = definedOnly[variable];
      const shown = received === undefined || SECRET_VARIABLES.has(variable) ? '' : ` (got "${received}")`;
      const where = inside.length > 0 ? `${variable} at ${inside.join('.')}:` : variable;
      return `${where} ${issue.message}${shown}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return toConfig(parsed.data);
}

function toConfig(env: Environment): Config {
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const decisionCache = { entries: env.DECISION_CACHE_ENTRIES, maxAgeMs: env.DECISION_CACHE_MAX_AGE_MS, denialMaxAgeMs: env.DECISION_CACHE_DENIAL_MAX_AGE_MS };
  return {
    http: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
      trustProxy: env.TRUST_PROXY,
      trustProxyHops: env.TRUST_PROXY_HOPS,
      publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    },
    logLevel: env.LOG_LEVEL,
    database: env.DATABASE_URL
      ? { mode: 'external', url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX }
      : { mode: 'embedded', dataDir: env.DATA_DIR, port: env.EMBEDDED_POSTGRES_PORT, poolMax: env.DATABASE_POOL_MAX },
    spicedb:
      env.SPICEDB_ENDPOINT && env.SPICEDB_PRESHARED_KEY
        ? {
            mode: 'server',
            endpoint: env.SPICEDB_ENDPOINT,
            presharedKey: env.SPICEDB_PRESHARED_KEY,
            insecure: env.SPICEDB_INSECURE,
            timeoutMs: env.SPICEDB_TIMEOUT_MS,
            decisionCache,
          }
        : {
            mode: 'embedded',
            timeoutMs: env.SPICEDB_TIMEOUT_MS,
            decisionCache,
          },
    outbox: { pollMs: env.OUTBOX_POLL_MS },
    planLimits: env.PLAN_LIMITS,
    teams: { maxNestingDepth: env.TEAMS_MAX_NESTING_DEPTH, maxPerOrganization: env.TEAMS_MAX_PER_ORGANIZATION },
    serviceAccountCacheSeconds: env.SERVICE_ACCOUNT_CACHE_SECONDS,
    policyDirectory: env.POLICY_DIR,
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM,
      publicUrl,
      linkBaseUrl: env.MAIL_LINK_BASE_URL?.replace(/\/+$/, '') ?? publicUrl,
      pollMs: env.OUTBOX_POLL_MS,
      maxAttempts: env.MAIL_MAX_ATTEMPTS,
    },
    accountMail: {
      perAccount: env.ACCOUNT_MAIL_MAX_PER_ACCOUNT,
      perAddress: env.ACCOUNT_MAIL_MAX_PER_ADDRESS,
      windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
      cooldownSeconds: env.ACCOUNT_MAIL_COOLDOWN_SECONDS,
      verificationTtlSeconds: env.EMAIL_VERIFICATION_TTL_SECONDS,
      resetTtlSeconds: env.RESET_TOKEN_TTL_SECONDS,
    },
    invitationMail: {
      perOrganization: env.INVITATION_MAILS_PER_ORGANIZATION,
      perInviter: env.INVITATION_MAILS_PER_INVITER,
      windowSeconds: env.INVITATION_MAIL_WINDOW_SECONDS,
      resendCooldownSeconds: env.INVITATION_RESEND_COOLDOWN_SECONDS,
    },
    audit: {
      retentionDays: env.AUDIT_RETENTION_DAYS ?? null,
      checkpointKey: env.AUDIT_CHECKPOINT_KEY,
      checkpointIntervalSeconds: env.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
    },
    sealing: { serverSecret: env.SERVER_SECRET, lookupCursorTtlSeconds: env.LOOKUP_CURSOR_TTL_SECONDS },
    events: {
      retentionDays: env.EVENTS_RETENTION_DAYS,
      pollMs: env.EVENTS_POLL_MS,
      webhooks: {
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
        retryDelaysMs: env.WEBHOOK_RETRY_SCHEDULE,
        disableAfterMs: env.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000,
        allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
        maxInFlight: env.WEBHOOK_MAX_IN_FLIGHT,
      },
      nats: env.EVENTS_NATS_URL
        ? { url: env.EVENTS_NATS_URL, stream: env.EVENTS_NATS_STREAM, subjectPrefix: env.EVENTS_NATS_SUBJECT_PREFIX }
        : null,
    },
    passwords: {
      cost: env.PASSWORD_HASH_COST,
      concurrency: env.PASSWORD_HASH_CONCURRENCY,
      queue: env.PASSWORD_HASH_QUEUE,
      perAccount: env.PASSWORD_HASH_PER_ACCOUNT,
      perAddress: env.PASSWORD_HASH_PER_ADDRESS,
    },
    account: { recentSignInMinutes: env.ACCOUNT_REAUTH_MINUTES },
    mfa: {
      issuer: env.MFA_ISSUER,
      maxFailuresPerAccount: env.MFA_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAddress: env.MFA_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
    },
    loginThrottle: {
      maxFailuresPerAccountAndAddress: env.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
      maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      windowSeconds: env.LOGIN_THROTTLE_WINDOW_SECONDS,
      knownClientDays: env.LOGIN_KNOWN_CLIENT_DAYS,
      maxSignupsPerAddress: env.SIGNUP_MAX_PER_ADDRESS,
    },
    jwt: {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      algorithm: env.JWT_ALGORITHM,
      accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
      privateKey: env.JWT_PRIVATE_KEY,
      refreshTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
    },
  };
}
