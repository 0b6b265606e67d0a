import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsIn, IsObject, ValidateNested } from 'class-validator';
import { ActionRequestDto } from '../../../actions/dto/action.dto';
import { Text, UuidParam } from '../../../common/dto-decorators';

/** What Defender for Office 365 can do to a delivered copy (microsoft-notes M53); the per-mailbox route does the same. */
export const EMAIL_ACTIONS = ['softDelete', 'hardDelete', 'moveToJunk', 'moveToInbox', 'moveToDeletedItems'] as const;
export type EmailAction = (typeof EMAIL_ACTIONS)[number];

/** Messages per request: one Defender for Office 365 call, and at most this many mailbox calls. */
export const MAX_MESSAGES = 100;

export class TenantParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;
}

export class EmailMessageDto {
  @Text(100, {
    pattern: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    message: 'networkMessageId must be a GUID (Exchange Online’s NetworkMessageId)',
    description: "Exchange Online's NetworkMessageId of the message (the same for every recipient of one send).",
    example: '73ca4154-58d8-43d0-a890-08dc18c52e6d',
  })
  networkMessageId: string;

  @Text(320, {
    pattern: /^[^@\s'"<>/\\]+@[^@\s'"<>/\\]+\.[^@\s'"<>/\\]+$/,
    message: 'recipient must be an email address',
    description: 'The mailbox the copy was delivered to.',
    example: 'bob@contoso.com',
  })
  recipient: string;

  @Text(500, {
    optional: true,
    pattern: /^<[^<>\s']+>$/,
    message: "internetMessageId must be an RFC 2822 Message-ID in angle brackets, without quotes ('<…@…>')",
    description: 'The Message-ID header; the per-mailbox route needs it when Defender for Office 365 cannot look it up.',
    example: '<DB9PR01MB7788.phish.4711@mail.payroll-update.example>',
  })
  internetMessageId?: string;
}

export class RemediateEmailsDto extends ActionRequestDto {
  @ApiProperty({ type: [EmailMessageDto], minItems: 1, maxItems: MAX_MESSAGES, description: 'The delivered copies: one per (message, recipient).' })
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1, { message: 'messages must list at least one message' })
  @ArrayMaxSize(MAX_MESSAGES, { message: `messages may list at most ${MAX_MESSAGES} messages` })
  @IsObject({ each: true, message: 'each value in messages must be an object' })
  @ValidateNested({ each: true })
  @Type(() => EmailMessageDto)
  messages: EmailMessageDto[];

  @ApiProperty({ enum: EMAIL_ACTIONS, description: '`hardDelete` cannot be undone; the others can be reversed with `moveToInbox`.' })
  @IsIn(EMAIL_ACTIONS, { message: `action must be one of ${EMAIL_ACTIONS.join(', ')}` })
  action: EmailAction;
}
