import { PATH_METADATA, METHOD_METADATA, MODULE_METADATA } from '@nestjs/common/constants';
import { ACCESS_KEY } from './access/access.decorator';
import { FEATURE_MODULES } from './app.module';

/** Default deny, checked statically: every route of every feature module declares who may call it. */
describe('every route declares its access', () => {
  const controllers = FEATURE_MODULES.flatMap(
    (module) => (Reflect.getMetadata(MODULE_METADATA.CONTROLLERS, module) ?? []) as Array<new (...args: never[]) => unknown>,
  );

  it('finds the controllers', () => {
    expect(controllers.length).toBeGreaterThan(0);
  });

  for (const controller of controllers) {
    const methods = Object.getOwnPropertyNames(controller.prototype).filter(
      (name) => name !== 'constructor' && Reflect.getMetadata(METHOD_METADATA, controller.prototype[name as keyof typeof controller.prototype]) !== undefined,
    );
    for (const method of methods) {
      it(`${controller.name}.${method} has @Access or @Public`, () => {
        const handler = controller.prototype[method as keyof typeof controller.prototype];
        expect(Reflect.getMetadata(PATH_METADATA, handler)).toBeDefined();
        expect(Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, controller)).toBeDefined();
      });
    }
  }
});
