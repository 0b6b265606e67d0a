import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { StepError } from '../../actions/action-handler';
import type { AppConfig } from '../../config/config';
import { APP_CONFIG } from '../../config/config.module';
import { HttpsTransport } from '../../microsoft/https-transport';
import { DefenderClient } from './defender-client';
import type { MachineAction } from './defender-types';

/**
 * Live response (microsoft-notes M50, M51): the bodies of `runliveresponse` and the evidence of a finished
 * session. Cordon sends one command per session (GetFile or RunScript): a failed command stops the rest, so
 * one command per action keeps each action's outcome its own.
 */

export type LiveResponseParams = { path?: string; script?: string; args?: string };

/** The one command of a collect-file or run-script session; parameter names are case-sensitive (microsoft-notes M17). */
export function liveResponseBody(kind: 'GetFile' | 'RunScript', comment: string, params: LiveResponseParams): Record<string, unknown> {
  const command =
    kind === 'GetFile'
      ? { type: 'GetFile', params: [{ key: 'Path', value: params.path ?? '' }] }
      : {
          type: 'RunScript',
          params: [{ key: 'ScriptName', value: params.script ?? '' }, ...(params.args ? [{ key: 'Args', value: params.args }] : [])],
        };
  return { Commands: [command], Comment: comment };
}

/** How much of a script's output the result keeps (the SHA-256 covers all of it). */
export const MAX_SCRIPT_OUTPUT_BYTES = 1024 * 1024;
/** A collected file this small is kept in the result (base64); larger ones only by hash, size and link. */
export const MAX_INLINE_FILE_BYTES = 64 * 1024;
/** Result links are valid for 30 minutes (microsoft-notes M51). */
export const RESULT_LINK_TTL_MS = 30 * 60_000;

/** The per-command errors of a failed session, as Defender lists them. */
export function commandErrors(action: MachineAction): string[] {
  return (action.commands ?? []).flatMap((c) => (c.errors ?? []).map((e) => `command ${c.index} (${c.command?.type ?? '?'}): ${e}`));
}

@Injectable()
export class LiveResponseResults {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly client: DefenderClient,
    private readonly transport: HttpsTransport,
  ) {}

  /** The result of command `index`: a fresh link, then the download (no bearer token), hashed as it arrives. */
  async evidence(tenantId: string, action: MachineAction, kind: 'GetFile' | 'RunScript', index = 0): Promise<Record<string, unknown>> {
    const { body } = await this.client.call<{ value: string }>(tenantId, 'GetLiveResponseResultDownloadLink', {
      url: `/api/machineactions/${encodeURIComponent(action.id)}/GetLiveResponseResultDownloadLink(index=${index})`,
    });
    const link = String(body.value).replace(/^"|"$/g, '');
    const obtainedAt = new Date();
    const { sha256, size, head } = await this.download(link, kind === 'RunScript' ? MAX_SCRIPT_OUTPUT_BYTES : MAX_INLINE_FILE_BYTES);
    const common = { machineActionId: action.id, commandIndex: index, sha256, size };
    if (kind === 'GetFile') {
      return {
        collectedFile: {
          ...common,
          downloadUrl: link,
          linkObtainedAt: obtainedAt.toISOString(),
          linkExpiresAt: new Date(obtainedAt.getTime() + RESULT_LINK_TTL_MS).toISOString(),
          ...(size <= MAX_INLINE_FILE_BYTES ? { contentBase64: head.toString('base64') } : {}),
          note: 'The link is valid for 30 minutes; the file is kept here only when small. Run collect-file again for a new link.',
        },
      };
    }
    const truncated = size > MAX_SCRIPT_OUTPUT_BYTES;
    let parsed: { script_name?: string; exit_code?: number; script_output?: string; script_errors?: string } | undefined;
    if (!truncated) {
      try {
        parsed = JSON.parse(head.toString('utf8')) as typeof parsed;
      } catch {
        parsed = undefined;
      }
    }
    return {
      scriptResult: {
        ...common,
        truncated,
        ...(parsed
          ? {
              scriptName: parsed.script_name ?? null,
              exitCode: parsed.exit_code ?? null,
              output: parsed.script_output ?? '',
              errors: parsed.script_errors ?? '',
            }
          : { raw: head.toString('utf8') }),
      },
    };
  }

  /** Streams the link: the SHA-256 and size of all of it, and its first `keep` bytes. */
  private async download(link: string, keep: number): Promise<{ sha256: string; size: number; head: Buffer }> {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new StepError('live-response-result-unavailable', `Defender answered a result link that is no URL: ${link.slice(0, 200)}`);
    }
    const response = await this.transport
      .open({ method: 'GET', url, headers: { accept: '*/*' }, timeoutMs: this.config.microsoftTimeoutSeconds * 1000 })
      .catch((error: Error) =>
        Promise.reject(new StepError('live-response-result-unavailable', `Downloading the result failed: ${error.message}`, { retryable: true })),
      );
    if (response.status !== 200) {
      response.body.destroy();
      throw new StepError('live-response-result-unavailable', `Downloading the result answered HTTP ${response.status}.`, {
        status: response.status,
        retryable: true,
      });
    }
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (size < keep) kept.push(chunk.subarray(0, keep - size));
      size += chunk.length;
    }
    return { sha256: hash.digest('hex'), size, head: Buffer.concat(kept) };
  }
}
