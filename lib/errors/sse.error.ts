/**
 * Base class of every error this library throws, so that one `instanceof`
 * check catches them all.
 */
export class SseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
