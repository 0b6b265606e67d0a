import { applyDecorators } from '@nestjs/common';
import { ApiBadRequestResponse, ApiInternalServerErrorResponse } from '@nestjs/swagger';
import { ProblemResponse } from './problem.dto';

/** Documents the problem responses every /v1 route can give. */
export function ApiProblems() {
  return applyDecorators(
    ApiBadRequestResponse({ description: 'Validation failed (`validation-failed`) or malformed body.', type: ProblemResponse }),
    ApiInternalServerErrorResponse({ description: 'Unexpected error (`internal-error`), with an error id.', type: ProblemResponse }),
  );
}
