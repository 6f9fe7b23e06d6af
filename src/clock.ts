/** The one source of "now"; tests pass a fixed clock. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
