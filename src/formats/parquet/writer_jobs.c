/*
 * writer_jobs.c: compression of the writer's data pages on a background
 * thread, so encoding and compression use two cores. Pages queue in FIFO
 * order; when more than a few wait, the caller compresses one itself, so
 * memory stays bounded and neither thread idles.
 */
#include "formats/parquet/codec.h"
#include "formats/parquet/parquet_write_int.h"

#include <pthread.h>
#include <string.h>

/* Pages waiting for compression before the caller helps. */
#define MAX_QUEUED 3
/* Spare page buffers kept for reuse. */
#define MAX_SPARE 6

struct pq_pool {
	sl_codec codec;
	int level;
	bool threaded;
	bool stop;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;  /* a job was queued, or stop */
	pthread_cond_t done;  /* a job finished */
	pq_job *head, *tail;  /* queue */
	int queued;
	sl_buf spare[MAX_SPARE];
	int nspare;
};

/* Re-encodes (delta) and compresses j; called without the lock held. */
static void compress_job(pq_pool *p, pq_job *j)
{
	j->rc = pq_job_encode(j);
	if (j->rc < 0) {
		sl_error_set(&j->err, j->rc, "page encoding: %s",
			     j->rc == SL_ENOMEM ? "out of memory" : "internal error");
		return;
	}
	j->body_len = j->body.len;
	j->rc = sl_codec_compress(p->codec, p->level, j->body.data ? j->body.data : "",
				  j->body.len, &j->comp, &j->err);
	/* the buffer was sized for the worst case: give the slack back, as a
	 * row group's compressed pages stay in memory until it is written */
	if (j->rc == 0 && j->comp.cap > j->comp.len + j->comp.len / 4 + 4096) {
		char *d = sl_realloc(j->comp.data, j->comp.len + 1);
		if (d) {
			j->comp.data = d;
			j->comp.cap = j->comp.len + 1;
		}
	}
}

/* Marks j done and recycles its body buffer; called with the lock held. */
static void finish_job(pq_pool *p, pq_job *j)
{
	if (p->nspare < MAX_SPARE) {
		sl_buf_reset(&j->body);
		p->spare[p->nspare++] = j->body;
	} else {
		sl_buf_free(&j->body);
	}
	memset(&j->body, 0, sizeof j->body);
	j->done = true;
}

static pq_job *pop(pq_pool *p)
{
	pq_job *j = p->head;
	if (j) {
		p->head = j->qnext;
		if (!p->head)
			p->tail = NULL;
		j->qnext = NULL;
		p->queued--;
	}
	return j;
}

/* Takes one queued job and compresses it on this thread; lock held. */
static void run_one(pq_pool *p, pq_job *j)
{
	pthread_mutex_unlock(&p->mu);
	compress_job(p, j);
	pthread_mutex_lock(&p->mu);
	finish_job(p, j);
	pthread_cond_broadcast(&p->done);
}

static void *worker(void *arg)
{
	pq_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		pq_job *j = pop(p);
		if (j) {
			run_one(p, j);
			continue;
		}
		if (p->stop)
			break;
		pthread_cond_wait(&p->work, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int pq_pool_new(pq_pool **out, sl_codec codec, int level, bool background)
{
	pq_pool *p = sl_calloc(1, sizeof *p);
	if (!p)
		return SL_ENOMEM;
	p->codec = codec;
	p->level = level;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (background && codec != SL_CODEC_UNCOMPRESSED &&
	    pthread_create(&p->thread, NULL, worker, p) == 0)
		p->threaded = true; /* when threads are unavailable, compress inline */
	*out = p;
	return 0;
}

void pq_pool_free(pq_pool *p)
{
	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	for (int i = 0; i < p->nspare; i++)
		sl_buf_free(&p->spare[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	sl_free(p);
}

pq_job *pq_pool_job(pq_pool *p)
{
	pq_job *j = sl_calloc(1, sizeof *j);
	if (!j)
		return NULL;
	pthread_mutex_lock(&p->mu);
	if (p->nspare > 0)
		j->body = p->spare[--p->nspare];
	pthread_mutex_unlock(&p->mu);
	return j;
}

void pq_pool_submit(pq_pool *p, pq_job *j)
{
	if (p->codec == SL_CODEC_UNCOMPRESSED) {
		/* the body is the page */
		j->rc = pq_job_encode(j);
		if (j->rc < 0)
			sl_error_set(&j->err, j->rc, "page encoding: %s",
				     j->rc == SL_ENOMEM ? "out of memory" : "internal error");
		sl_buf_free(&j->comp);
		j->body_len = j->body.len;
		j->comp = j->body;
		memset(&j->body, 0, sizeof j->body);
		j->done = true;
		return;
	}
	if (!p->threaded) {
		compress_job(p, j);
		pthread_mutex_lock(&p->mu);
		finish_job(p, j);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->qnext = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	pthread_cond_signal(&p->work);
	/* too much waiting: help with the oldest */
	while (p->queued > MAX_QUEUED) {
		pq_job *o = pop(p);
		run_one(p, o);
	}
	pthread_mutex_unlock(&p->mu);
}

int pq_pool_wait(pq_pool *p, pq_job *j)
{
	pthread_mutex_lock(&p->mu);
	while (!j->done) {
		pq_job *o = pop(p);
		if (o)
			run_one(p, o);
		else
			pthread_cond_wait(&p->done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return j->rc;
}

void pq_pool_release(pq_pool *p, pq_job *j)
{
	if (!j)
		return;
	sl_buf_free(&j->body);
	sl_buf_free(&j->comp);
	sl_free(j);
}
