import { Injectable } from '@nestjs/common';
import type { AuditContext } from '../audit-log/audit-entry';
import { AuditLogService } from '../audit-log/audit-log.service';
import { describeActor } from '../auth/api-keys.service';
import type { Principal } from '../access/principal';
import { PolicyDto, PolicyResponse } from './dto/policy.dto';
import { TenantPolicyEntity } from './tenant.entity';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

const EMPTY: Required<PolicyDto> = {
  protectedUsers: [],
  protectedGroups: [],
  protectedDevices: [],
  protectedDeviceTags: [],
  approvalRequired: [],
  hourlyLimits: {},
  containmentGroupId: null,
  liveResponseScripts: [],
  runScriptApproval: 'always',
};

/** The policy in force: the stored one, or the empty policy when none was set. */
export function policyInForce(policy: TenantPolicyEntity | null): Required<PolicyDto> {
  if (!policy) return { ...EMPTY };
  const { protectedUsers, protectedGroups, protectedDevices, protectedDeviceTags, approvalRequired, hourlyLimits, containmentGroupId } = policy;
  const { liveResponseScripts, runScriptApproval } = policy;
  return {
    protectedUsers,
    protectedGroups,
    protectedDevices,
    protectedDeviceTags,
    approvalRequired,
    hourlyLimits,
    containmentGroupId: containmentGroupId ?? null,
    liveResponseScripts: liveResponseScripts ?? [],
    runScriptApproval: runScriptApproval ?? 'always',
  };
}

/** Guardrails per tenant: protected users and groups, approvals, hourly limits. Replaced whole, audited. */
@Injectable()
export class TenantPoliciesService {
  constructor(
    private readonly tenants: TenantsService,
    private readonly repository: TenantsRepository,
    private readonly auditLog: AuditLogService,
  ) {}

  async get(principal: Principal, tenantId: string): Promise<PolicyResponse> {
    await this.tenants.findVisible(principal, tenantId);
    const policy = await this.repository.policy(tenantId);
    if (!policy) return { tenantId, ...EMPTY, updatedBy: null, updatedAt: null };
    return { tenantId, ...policyInForce(policy), updatedBy: policy.updatedBy, updatedAt: policy.updatedAt.toISOString() };
  }

  /** The policy in force for a tenant (empty when none was set), for the actions engine. */
  async policyOf(tenantId: string): Promise<Required<PolicyDto>> {
    const policy = await this.repository.policy(tenantId);
    return policyInForce(policy);
  }

  async put(principal: Principal, tenantId: string, input: PolicyDto, context: AuditContext): Promise<PolicyResponse> {
    await this.tenants.findVisible(principal, tenantId);
    // UPNs are case-insensitive; object ids are GUIDs: compare everything lower-case.
    const next = {
      protectedUsers: [...new Set(input.protectedUsers.map((u) => u.trim().toLowerCase()))],
      protectedGroups: [...new Set(input.protectedGroups.map((g) => g.trim().toLowerCase()))],
      protectedDevices: [...new Set((input.protectedDevices ?? []).map((d) => d.trim().toLowerCase()))],
      protectedDeviceTags: [...new Set((input.protectedDeviceTags ?? []).map((t) => t.trim().toLowerCase()))],
      approvalRequired: [...input.approvalRequired].sort(),
      hourlyLimits: input.hourlyLimits,
      containmentGroupId: input.containmentGroupId?.toLowerCase() ?? null,
      liveResponseScripts: [...new Set((input.liveResponseScripts ?? []).map((n) => n.trim()))],
      runScriptApproval: input.runScriptApproval ?? 'always',
    };
    await this.repository.transaction(async (manager) => {
      const before = await this.repository.policy(tenantId, manager);
      await this.repository.savePolicy(manager, { tenantId, ...next, updatedBy: describeActor(context.actor) });
      await this.auditLog.append(manager, {
        event: 'tenant.policy.updated',
        actor: context.actor,
        tenantId,
        subject: `tenant:${tenantId}`,
        requestId: context.requestId,
        data: { before: policyInForce(before), after: next },
      });
    });
    return this.get(principal, tenantId);
  }
}
