import { ApiProperty } from '@nestjs/swagger';
import { UuidParam } from '../../../common/dto-decorators';

export class SecureScoreParams {
  @UuidParam({ description: 'Cordon tenant id.' })
  id: string;
}

export class SecureScoreControl {
  @ApiProperty({ example: 'MFARegistrationV2', description: 'The control (secureScoreControlProfile id).' }) name: string;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Identity' }) category: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Points this control earns in this snapshot.' }) score: number | null;
  @ApiProperty({ nullable: true, type: Number }) maxScore: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'Default', description: 'Latest state set on the control (Default, Ignored, ThirdParty, Reviewed…).' })
  state: string | null;
}

export class SecureScoreSnapshot {
  @ApiProperty({ format: 'date-time', description: 'The day Microsoft computed this score for.' }) scoredAt: string;
  @ApiProperty() currentScore: number;
  @ApiProperty() maxScore: number;
  @ApiProperty({ nullable: true, type: Number, description: 'currentScore / maxScore × 100, two decimals.' }) percentage: number | null;
  @ApiProperty({ format: 'date-time' }) collectedAt: string;
}

export class SecureScoreLatest extends SecureScoreSnapshot {
  @ApiProperty({ type: [SecureScoreControl] }) controls: SecureScoreControl[];
}

export class SecureScoreControlState {
  @ApiProperty({ nullable: true, type: Number }) score: number | null;
  @ApiProperty({ nullable: true, type: String }) state: string | null;
}

export class SecureScoreControlChange {
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty({ nullable: true, type: String }) category: string | null;
  @ApiProperty({ type: SecureScoreControlState, nullable: true, description: 'Null when the control is new in the latest snapshot.' })
  before: SecureScoreControlState | null;
  @ApiProperty({ type: SecureScoreControlState, nullable: true, description: 'Null when the control is gone from the latest snapshot.' })
  after: SecureScoreControlState | null;
}

export class SecureScoreChange {
  @ApiProperty({ description: 'Latest currentScore minus the previous one.' }) scoreDelta: number;
  @ApiProperty({ description: 'Latest maxScore minus the previous one.' }) maxScoreDelta: number;
  @ApiProperty({ type: [SecureScoreControlChange], description: 'Controls whose score or state changed (or that appeared or went).' })
  controls: SecureScoreControlChange[];
}

export class SecureScoreResponse {
  @ApiProperty({ format: 'uuid' }) tenantId: string;
  @ApiProperty({ type: SecureScoreLatest }) latest: SecureScoreLatest;
  @ApiProperty({ type: SecureScoreSnapshot, nullable: true, description: 'The snapshot before the latest; null after the first.' })
  previous: SecureScoreSnapshot | null;
  @ApiProperty({ type: SecureScoreChange, nullable: true, description: 'What changed since the previous snapshot; null after the first.' })
  change: SecureScoreChange | null;
}
