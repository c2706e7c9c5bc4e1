/**
 * The baseline: the smallest relay on the same stack (Fastify + Socket.IO, WebSocket only,
 * no per-message deflate) that routes a Hips hook to its cab's tablet — with no signature
 * verification, no storage, no logging and no waiting for acks. It is the ceiling the real
 * relay is compared with; it must never be used for real payments.
 * Routing by convention: QR code `qr-<cabId>` (bench/hooks.ts), merchant order `<cabId>.<rideId>`.
 */
import Fastify from 'fastify';
import { Server as SocketServer, type Socket } from 'socket.io';
import { v7 as uuidv7 } from 'uuid';
import { CAB_NAMESPACE, SOCKET_EVENTS } from '../protocol/relay-protocol.js';

interface CabLink {
  socket: Socket;
  seq: number;
}

export async function buildBaselineRelay(options: { port: number; host?: string }): Promise<{ url: string; close(): Promise<void> }> {
  const fastify = Fastify({ logger: false, forceCloseConnections: 'idle' });
  const io = new SocketServer(fastify.server, { perMessageDeflate: false, serveClient: false, transports: ['websocket'] });
  const cabs = new Map<string, CabLink>();
  // Seqs survive reconnects, as a tablet expects seq to continue.
  const seqs = new Map<string, number>();

  io.of(CAB_NAMESPACE).on('connection', (socket) => {
    const cabId = String((socket.handshake.auth as { cabId?: unknown }).cabId ?? '');
    cabs.set(cabId, { socket, seq: seqs.get(cabId) ?? 0 });
    socket.on(SOCKET_EVENTS.tabletStatus, (_status: unknown, ack?: unknown) => {
      if (typeof ack === 'function') ack({ ok: true, value: null });
    });
    socket.on('disconnect', () => {
      if (cabs.get(cabId)?.socket === socket) cabs.delete(cabId);
    });
  });

  const deliver = (cabId: string, type: string, data: unknown): number | null => {
    const link = cabs.get(cabId);
    if (!link) return null;
    link.seq++;
    seqs.set(cabId, link.seq);
    link.socket.emit(SOCKET_EVENTS.relayEvent, { seq: link.seq, id: uuidv7(), type, occurredAt: new Date().toISOString(), data }, () => {});
    return link.seq;
  };

  fastify.post('/webhooks/hips/qr', async (req, reply) => {
    const d = unverifiedData(req.body) as { session_id: string; qr_code: string; allow_tip?: boolean };
    const cabId = d.qr_code.replace(/^qr-/, '');
    const seq = deliver(cabId, 'qr.session.started', {
      psp: 'hips',
      sessionId: d.session_id,
      qrCode: d.qr_code,
      allowTip: d.allow_tip ?? false,
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    });
    if (seq === null) return reply.code(412).send({ down_response_text: 'cab offline' });
    return { status: 'stored', seq };
  });

  fastify.post('/webhooks/hips/orders', async (req, reply) => {
    const d = unverifiedData(req.body) as { resource: Record<string, unknown> & { merchant_order_id: string } };
    const r = d.resource;
    const cabId = r.merchant_order_id.split('.')[0] ?? '';
    const seq = deliver(cabId, 'order.paid', {
      merchantOrderId: r.merchant_order_id,
      pspOrderId: r.order_id,
      currency: r.currency,
      orderAmount: r.order_amount,
      tipAmount: r.tip_amount,
      totalAmount: r.amount,
    });
    if (seq === null) return reply.code(200).send({ status: 'unrouted' });
    return { status: 'stored', seq };
  });

  await fastify.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      io.of(CAB_NAMESPACE).disconnectSockets(true);
      io.engine.close();
      await fastify.close();
    },
  };
}

/** The JWT's data claim, read without checking the signature (the point of the baseline). */
function unverifiedData(body: unknown): unknown {
  const jwt = (body as { jwt: string }).jwt;
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { data: unknown };
  return payload.data;
}
