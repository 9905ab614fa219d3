/** Stands for one of the app's own services, handed to the hooks through `context`. */
export const audit = {
  async record(event: string, sub: string | undefined): Promise<void> {
    await Promise.resolve();
    console.log(event, sub);
  },
};
