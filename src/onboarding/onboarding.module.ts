import { Module } from '@nestjs/common';
import { OnboardingController } from './onboarding.controller';

/** Onboarding: the permission manifest (computed from the capability checks, no state of its own). */
@Module({ controllers: [OnboardingController] })
export class OnboardingModule {}
