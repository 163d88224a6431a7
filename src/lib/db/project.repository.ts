/** Projects. To start, each browser works in one local project, created on first use. */
import { uuidv7 } from '../core/ids';
import type { Project } from '../core/records';
import { getDb } from './db';
import { getClock, getMeta } from './meta.repository';
import { enqueue } from './outbox.repository';

export async function getOrCreateProject(name = 'My project'): Promise<Project> {
  const db = getDb();
  const currentId = await getMeta<string>('projectId');
  if (currentId) {
    const existing = await db.projects.get(currentId);
    if (existing) return existing;
  }
  const clock = await getClock();
  const now = Date.now();
  const project: Project = { id: uuidv7(), projectId: '', name, createdAt: now, updatedAt: now };
  project.projectId = project.id;
  await db.transaction('rw', db.projects, db.outbox, db.meta, async () => {
    await db.projects.add(project);
    await db.meta.put({ key: 'projectId', value: project.id });
    await enqueue(
      {
        entity: 'project',
        op: 'insert',
        recordId: project.id,
        projectId: project.id,
        fields: { ...project },
        blobs: []
      },
      clock.tick()
    );
  });
  return project;
}

export async function currentProjectId(): Promise<string> {
  return (await getOrCreateProject()).id;
}
