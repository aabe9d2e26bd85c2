// Control-path errors: a stable code for programs, ipvsadm's own words for people.
export class LvsError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'LvsError';
  }
}
