import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { CollectContext } from '../../collection/collector';
import { CollectorRegistry } from '../../collection/collector-registry';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { GraphClientFactory } from '../../microsoft';
import { normalizeDirectoryAudit, normalizeRiskDetection, normalizeSignIn } from './entra-normalize';
import { GraphLogCollector } from './graph-log.collector';
import { IdentityProtectionPacer } from './identity-protection-pacer';

export const SIGN_INS_SOURCE = 'entra-sign-ins';
export const DIRECTORY_AUDITS_SOURCE = 'entra-directory-audits';
export const RISK_DETECTIONS_SOURCE = 'entra-risk-detections';

/**
 * `auditLogs/signIns` (microsoft-notes §3.1): needs Entra ID P1/P2 — the capability probe finds a tenant
 * without it `unlicensed` and the engine skips the stream (microsoft-notes M11). Default and maximum page 1,000;
 * kept 30 days on P1/P2.
 */
@Injectable()
export class SignInsCollector extends GraphLogCollector implements OnModuleInit {
  constructor(
    graphs: GraphClientFactory,
    private readonly registry: CollectorRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(
      {
        source: SIGN_INS_SOURCE,
        stream: 'Entra.SignIns',
        capability: 'sign-in-logs',
        path: '/auditLogs/signIns',
        timeField: 'createdDateTime',
        pageSize: 1000,
        retentionDays: 30,
        normalize: normalizeSignIn,
      },
      graphs,
      config,
    );
  }

  onModuleInit(): void {
    this.registry.register(this);
  }
}

/** `auditLogs/directoryAudits` (microsoft-notes §3.1): no documented `$top` maximum, so a modest page; kept 7 days on Free. */
@Injectable()
export class DirectoryAuditsCollector extends GraphLogCollector implements OnModuleInit {
  constructor(
    graphs: GraphClientFactory,
    private readonly registry: CollectorRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(
      {
        source: DIRECTORY_AUDITS_SOURCE,
        stream: 'Entra.DirectoryAudits',
        capability: 'directory-audits',
        path: '/auditLogs/directoryAudits',
        timeField: 'activityDateTime',
        pageSize: 500,
        retentionDays: 7,
        normalize: normalizeDirectoryAudit,
      },
      graphs,
      config,
    );
  }

  onModuleInit(): void {
    this.registry.register(this);
  }
}

/**
 * `identityProtection/riskDetections` (microsoft-notes §3.1): Entra ID P2; `$top` at most 500 (M12); filtered on
 * `detectedDateTime` so offline detections of older activity are still picked up; every request
 * paced to Identity Protection's 1 per second per tenant (microsoft-notes §3.5).
 */
@Injectable()
export class RiskDetectionsCollector extends GraphLogCollector implements OnModuleInit {
  constructor(
    graphs: GraphClientFactory,
    private readonly registry: CollectorRegistry,
    private readonly pacer: IdentityProtectionPacer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super(
      {
        source: RISK_DETECTIONS_SOURCE,
        stream: 'Entra.RiskDetections',
        capability: 'identity-protection',
        path: '/identityProtection/riskDetections',
        timeField: 'detectedDateTime',
        pageSize: 500,
        retentionDays: 90,
        normalize: normalizeRiskDetection,
      },
      graphs,
      config,
    );
  }

  onModuleInit(): void {
    this.registry.register(this);
  }

  protected override request<T>(ctx: CollectContext, send: () => Promise<T>): Promise<T> {
    return this.pacer.run(ctx.credentials.tenantId, send, ctx.signal);
  }
}
